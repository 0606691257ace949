using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aspo.Data;

/// <summary>
/// Chat templates as fixed renderers of the known Jinja templates (transformers renders tokenizer_config.json's
/// chat_template; general Jinja is not needed for these): ChatML, Qwen2.5 (default system prompt), Qwen2.5-Math,
/// Qwen3 (thinking blocks), Llama-3, and a plain one for base models. The rendered text is tokenized without adding
/// special tokens: the template carries them.
/// </summary>
public sealed class ChatTemplate
{
    public static IReadOnlyList<string> Names { get; } = ["chatml", "qwen2.5", "qwen2.5-math", "qwen3", "llama3", "plain"];

    private const string QwenDefaultSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
    private const string QwenMathDefaultSystem = "Please reason step by step, and put your final answer within \\boxed{}.";

    private ChatTemplate(string name) => Name = name;

    public string Name { get; }

    /// <exception cref="ArgumentException">unknown name; the message lists the valid ones</exception>
    public static ChatTemplate ByName(string name) => Names.Contains(name)
        ? new ChatTemplate(name)
        : throw new ArgumentException($"unknown chat template '{name}'; valid templates: {string.Join(", ", Names)}");

    /// <summary>Recognises the chat_template of a <c>tokenizer_config.json</c> (file or model folder).</summary>
    /// <exception cref="DataFormatException">no chat_template, or one that is not recognised (the message says how to choose one)</exception>
    public static ChatTemplate FromTokenizerConfig(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, "tokenizer_config.json") : path;
        var howToChoose = $"set data.chat_template to one of: {string.Join(", ", Names)}";
        if (!File.Exists(file))
            throw new DataFormatException($"{file}: tokenizer_config.json not found; {howToChoose}");
        string? template;
        try
        {
            template = (JsonNode.Parse(File.ReadAllText(file)) as JsonObject)?["chat_template"] switch
            {
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                _ => null,
            };
        }
        catch (JsonException e)
        {
            throw new DataFormatException($"{file}: not valid JSON ({e.Message})");
        }
        if (template is null)
            throw new DataFormatException($"{file}: has no chat_template; {howToChoose}");
        if (template.Contains("<|im_start|>", StringComparison.Ordinal))
        {
            if (template.Contains(QwenDefaultSystem, StringComparison.Ordinal)) return new ChatTemplate("qwen2.5");
            if (template.Contains("Please reason step by step", StringComparison.Ordinal)) return new ChatTemplate("qwen2.5-math");
            if (template.Contains("</think>", StringComparison.Ordinal) || template.Contains("enable_thinking", StringComparison.Ordinal)) return new ChatTemplate("qwen3");
            return new ChatTemplate("chatml");
        }
        if (template.Contains("<|start_header_id|>", StringComparison.Ordinal))
            return new ChatTemplate("llama3");
        throw new DataFormatException($"{file}: chat_template is not one this project recognises; {howToChoose}");
    }

    /// <summary>The prompt text for <paramref name="messages"/>; with <paramref name="addGenerationPrompt"/> it ends where the assistant's answer starts.</summary>
    /// <param name="enableThinking">Qwen3 only: false appends an empty think block to the generation prompt</param>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, bool? enableThinking = null)
    {
        if (messages.Count == 0)
            throw new ArgumentException("a conversation needs at least one message");
        var sb = new StringBuilder();
        switch (Name)
        {
            case "llama3":
                sb.Append("<|begin_of_text|>");
                foreach (var m in messages)
                    sb.Append("<|start_header_id|>").Append(m.Role).Append("<|end_header_id|>\n\n").Append(m.Content.Trim()).Append("<|eot_id|>");
                if (addGenerationPrompt)
                    sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
                return sb.ToString();
            case "plain":
                foreach (var m in messages)
                    sb.Append(m.Role).Append(": ").Append(m.Content).Append('\n');
                if (addGenerationPrompt)
                    sb.Append("assistant: ");
                return sb.ToString();
            case "qwen3":
                RenderQwen3(messages, sb);
                break;
            default:
                RenderChatMl(messages, sb, Name switch { "qwen2.5" => QwenDefaultSystem, "qwen2.5-math" => QwenMathDefaultSystem, _ => null });
                break;
        }
        if (addGenerationPrompt)
        {
            sb.Append("<|im_start|>assistant\n");
            if (Name == "qwen3" && enableThinking == false)
                sb.Append("<think>\n\n</think>\n\n");
        }
        return sb.ToString();
    }

    private static void Block(StringBuilder sb, string role, string content) =>
        sb.Append("<|im_start|>").Append(role).Append('\n').Append(content).Append("<|im_end|>\n");

    private static void RenderChatMl(IReadOnlyList<ChatMessage> messages, StringBuilder sb, string? defaultSystem)
    {
        if (defaultSystem is not null && messages[0].Role != "system")
            Block(sb, "system", defaultSystem);
        for (var i = 0; i < messages.Count; i++)
        {
            if (messages[i].Role == "tool")
                i = ToolBlock(messages, i, sb);
            else
                Block(sb, messages[i].Role, messages[i].Content);
        }
    }

    /// <summary>Consecutive tool messages share one user turn of &lt;tool_response&gt; blocks; returns the last index consumed.</summary>
    private static int ToolBlock(IReadOnlyList<ChatMessage> messages, int i, StringBuilder sb)
    {
        sb.Append("<|im_start|>user");
        for (; i < messages.Count && messages[i].Role == "tool"; i++)
            sb.Append("\n<tool_response>\n").Append(messages[i].Content).Append("\n</tool_response>");
        sb.Append("<|im_end|>\n");
        return i - 1;
    }

    private static void RenderQwen3(IReadOnlyList<ChatMessage> messages, StringBuilder sb)
    {
        // the last user query that is not a wrapped tool response: assistant turns after it keep their reasoning
        var lastQuery = messages.Count - 1;
        for (var i = messages.Count - 1; i >= 0; i--)
        {
            var c = messages[i].Content;
            if (messages[i].Role == "user" && !(c.StartsWith("<tool_response>", StringComparison.Ordinal) && c.EndsWith("</tool_response>", StringComparison.Ordinal)))
            {
                lastQuery = i;
                break;
            }
        }
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.Role == "user" || m.Role == "system")
            {
                Block(sb, m.Role, m.Content);
                continue;
            }
            if (m.Role == "tool")
            {
                i = ToolBlock(messages, i, sb);
                continue;
            }
            var content = m.Content;
            var reasoning = "";
            var close = content.IndexOf("</think>", StringComparison.Ordinal);
            if (close >= 0)
            {
                var before = content[..close];
                content = content[(content.LastIndexOf("</think>", StringComparison.Ordinal) + "</think>".Length)..].TrimStart('\n');
                var open = before.LastIndexOf("<think>", StringComparison.Ordinal);
                reasoning = (open >= 0 ? before[(open + "<think>".Length)..] : before).TrimEnd('\n').TrimStart('\n');
            }
            sb.Append("<|im_start|>").Append(m.Role).Append('\n');
            if (i > lastQuery && (i == messages.Count - 1 || reasoning.Length > 0))
                sb.Append("<think>\n").Append(reasoning.Trim('\n')).Append("\n</think>\n\n").Append(content.TrimStart('\n'));
            else
                sb.Append(content);
            sb.Append("<|im_end|>\n");
        }
    }
}
