#!/usr/bin/python3
"""PyTorch side of `tools/bench/run learner`: one training step (forward over one sequence, log-probs of every
next token at T=1, loss Σ c·logπ, backward, AdamW) on a random-weight decoder of the given shapes, timed.

Usage: /usr/bin/python3 tools/bench/torch_learner_step.py HIDDEN INTER LAYERS HEADS KV HEAD_DIM VOCAB TIED T THREADS STEPS
Prints one JSON line: {"median_s": …, "steps": […], "peak_rss_bytes": …}.
"""
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from decoder import forward, init_params  # noqa: E402  (the same reference model as the golden fixtures)

hidden, inter, layers, heads, kv, head_dim, vocab, tied, T, threads, steps = map(int, sys.argv[1:12])
torch.set_num_threads(threads)
c = dict(model_type="qwen2", hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers, num_attention_heads=heads,
         num_key_value_heads=kv, head_dim=head_dim, vocab_size=vocab, rms_norm_eps=1e-6, rope_theta=1000000.0,
         tie_word_embeddings=bool(tied), attention_bias=False)
gen = torch.Generator().manual_seed(0)
p = init_params(c, gen)
opt = torch.optim.AdamW(list(p.values()), lr=1e-6, weight_decay=0.01)
tokens = torch.randint(0, vocab, (T,), generator=gen).tolist()
coef = torch.randn(T - 1, generator=gen)
times = []
for _ in range(steps):
    start = time.perf_counter()
    opt.zero_grad(set_to_none=False)
    logits = forward(c, p, tokens)[:-1]
    logp = logits.log_softmax(-1).gather(-1, torch.tensor(tokens[1:])[:, None])[:, 0]
    (coef * logp).sum().backward()
    opt.step()
    times.append(time.perf_counter() - start)
warm = times[1:] if len(times) > 1 else times
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
print(json.dumps({"median_s": sorted(warm)[len(warm) // 2], "steps": times, "peak_rss_bytes": peak}))
