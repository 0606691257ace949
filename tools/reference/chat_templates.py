#!/usr/bin/python3
"""Golden chat-template renderings: the real Qwen3 chat_template (tokenizer_config.json that tools/setup fetches)
rendered with Jinja2 the way transformers renders it (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks,
tojson = json.dumps(ensure_ascii=False), raise_exception), for a set of conversations.

Run: apt-get install python3-jinja2; /usr/bin/python3 tools/reference/chat_templates.py
Writes tests/Aspo.Data.Tests/Fixtures/chat_templates.json.
"""
import json
import os
import sys

from jinja2.sandbox import ImmutableSandboxedEnvironment

here = os.path.dirname(os.path.abspath(__file__))
config_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", ".native", "tokenizers", "qwen3", "tokenizer_config.json")
out_path = os.path.join(here, "..", "..", "tests", "Aspo.Data.Tests", "Fixtures", "chat_templates.json")


def raise_exception(message):
    raise ValueError(message)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
env.filters["tojson"] = lambda x, indent=None, separators=None, sort_keys=False: json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)
env.globals["raise_exception"] = raise_exception
template = env.from_string(json.load(open(config_path))["chat_template"])

conversations = [
    [{"role": "user", "content": "What is 1+1? Let's think step by step and output the final answer within \\boxed{}."}],
    [{"role": "system", "content": "You are a careful math tutor."}, {"role": "user", "content": "Solve x^2 = 4."}],
    [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}, {"role": "user", "content": "Tell me a joke.\nMake it short."}],
    [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "<think>\nold reasoning\n</think>\n\nA1"}, {"role": "user", "content": "Q2"}],
    [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "<think>\nreasoning to keep\n</think>\n\nFinal"}],
    [{"role": "user", "content": "  spaces and\ttabs  "}],
    [{"role": "user", "content": "中文问题：2+2=?"}],
]
cases = []
for messages in conversations:
    for add_generation_prompt in (True, False):
        for enable_thinking in (None, False):
            kwargs = {"messages": messages, "add_generation_prompt": add_generation_prompt}
            if enable_thinking is not None:
                kwargs["enable_thinking"] = enable_thinking
            cases.append({"messages": messages, "add_generation_prompt": add_generation_prompt,
                          "enable_thinking": enable_thinking, "rendered": template.render(**kwargs)})
with open(out_path, "w") as f:
    json.dump({"generator": "tools/reference/chat_templates.py", "template": "qwen3", "cases": cases}, f, ensure_ascii=False, indent=1)
print(f"wrote {out_path}: {len(cases)} renderings")
