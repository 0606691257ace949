using System.Text.Json;

namespace Aspo.Data.Tests;

public sealed class ChatTemplateTests
{
    /// <summary>The real Qwen3 chat_template rendered by Jinja2 as transformers does (tools/reference/chat_templates.py).</summary>
    [Fact]
    public void Qwen3_matches_jinja_renderings_of_the_real_template()
    {
        var fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "chat_templates.json"))).RootElement;
        var template = ChatTemplate.ByName("qwen3");
        var count = 0;
        foreach (var c in fixture.GetProperty("cases").EnumerateArray())
        {
            var messages = c.GetProperty("messages").EnumerateArray()
                .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToArray();
            bool? thinking = c.GetProperty("enable_thinking").ValueKind == JsonValueKind.False ? false : null;
            Assert.Equal(c.GetProperty("rendered").GetString(), template.Render(messages, c.GetProperty("add_generation_prompt").GetBoolean(), thinking));
            count++;
        }
        Assert.Equal(28, count);
    }

    /// <summary>The Qwen2.5-Instruct rendering of the usual RLVR math prompt (its tokenizer_config.json chat template, rendered by Jinja2).</summary>
    [Fact]
    public void Qwen25_adds_its_default_system_prompt()
    {
        var rendered = ChatTemplate.ByName("qwen2.5").Render(
            [new ChatMessage("user", "What is 2+2? Let's think step by step and output the final answer within \\boxed{}.")], addGenerationPrompt: true);
        Assert.Equal("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n" +
                     "<|im_start|>user\nWhat is 2+2? Let's think step by step and output the final answer within \\boxed{}.<|im_end|>\n" +
                     "<|im_start|>assistant\n", rendered);
        var withSystem = ChatTemplate.ByName("qwen2.5").Render([new ChatMessage("system", "S"), new ChatMessage("user", "U")], addGenerationPrompt: false);
        Assert.Equal("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n", withSystem);
    }

    [Fact]
    public void Tool_messages_share_one_user_turn()
    {
        var rendered = ChatTemplate.ByName("chatml").Render(
            [new ChatMessage("user", "q"), new ChatMessage("tool", "r1"), new ChatMessage("tool", "r2"), new ChatMessage("assistant", "a")], false);
        Assert.Equal("<|im_start|>user\nq<|im_end|>\n<|im_start|>user\n<tool_response>\nr1\n</tool_response>\n<tool_response>\nr2\n</tool_response><|im_end|>\n<|im_start|>assistant\na<|im_end|>\n", rendered);
    }

    [Fact]
    public void Llama3_and_plain_formats()
    {
        Assert.Equal("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            ChatTemplate.ByName("llama3").Render([new ChatMessage("user", " Hi\n")], true));
        Assert.Equal("user: 1+1?\nassistant: ", ChatTemplate.ByName("plain").Render([new ChatMessage("user", "1+1?")], true));
    }

    [Fact]
    public void The_real_qwen3_tokenizer_config_is_recognised() =>
        Assert.Equal("qwen3", ChatTemplate.FromTokenizerConfig(Qwen3Tokenizer.Folder).Name);

    [Fact]
    public void Unrecognised_or_missing_templates_say_how_to_choose_one()
    {
        var dir = Directory.CreateTempSubdirectory("aspo-template-").FullName;
        try
        {
            var file = Path.Combine(dir, "tokenizer_config.json");
            File.WriteAllText(file, "{\"chat_template\": \"{% for m in messages %}[{{ m.content }}]{% endfor %}\"}");
            var e = Assert.Throws<DataFormatException>(() => ChatTemplate.FromTokenizerConfig(dir));
            Assert.Contains($"{file}: chat_template is not one this project recognises; set data.chat_template to one of: chatml, qwen2.5, qwen2.5-math, qwen3, llama3, plain", e.Message);
            File.WriteAllText(file, "{}");
            Assert.Contains("has no chat_template; set data.chat_template", Assert.Throws<DataFormatException>(() => ChatTemplate.FromTokenizerConfig(file)).Message);
            Assert.Contains("valid templates: chatml", Assert.Throws<ArgumentException>(() => ChatTemplate.ByName("vicuna")).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
