using Aspo.Native.Files;
using System.Text.Json.Nodes;

namespace Aspo.Data.Tokenization;

/// <summary>
/// The smallest byte-level tokenizer: the 256 byte tokens of GPT-2's byte ↔ unicode map (ids 0–255 in byte order), no
/// merges, GPT-2 pre-tokenization, and the ChatML special tokens after them — in Hugging Face's tokenizer.json layout,
/// with a tokenizer_config.json whose chat_template is ChatML. Every text encodes (one token per UTF-8 byte), which
/// suits the tiny models of the synthetic tasks; a trained BPE can replace it without touching anything else.
/// </summary>
public static class ByteLevelTokenizerFiles
{
    public static readonly IReadOnlyList<string> SpecialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    public const string ChatMlTemplate =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    /// <summary>Vocabulary size: 256 bytes + the special tokens.</summary>
    public static int VocabSize => 256 + SpecialTokens.Count;

    /// <summary>The id of a special token.</summary>
    public static int SpecialId(string token)
    {
        var index = SpecialTokens.ToList().IndexOf(token);
        return index >= 0 ? 256 + index : throw new ArgumentException($"'{token}' is not one of the special tokens {string.Join(", ", SpecialTokens)}");
    }

    /// <summary>Writes tokenizer.json and tokenizer_config.json into <paramref name="folder"/>.</summary>
    public static void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++)
            vocab[ByteLevel.ByteToChar[b].ToString()] = b;
        var added = new JsonArray();
        foreach (var token in SpecialTokens)
        {
            vocab[token] = SpecialId(token);
            added.Add(new JsonObject
            {
                ["id"] = SpecialId(token), ["content"] = token, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            });
        }
        var tokenizer = new JsonObject
        {
            ["version"] = "1.0", ["truncation"] = null, ["padding"] = null, ["added_tokens"] = added, ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false, ["vocab"] = vocab, ["merges"] = new JsonArray(),
            },
        };
        var config = new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast", ["chat_template"] = ChatMlTemplate, ["eos_token"] = "<|im_end|>",
            ["pad_token"] = "<|endoftext|>", ["bos_token"] = null, ["model_max_length"] = 4096,
        };
        var options = new System.Text.Json.JsonSerializerOptions { WriteIndented = true };
        foreach (var (name, json) in new[] { ("tokenizer.json", tokenizer), ("tokenizer_config.json", config) })
        {
            AtomicFile.WriteAllText(Path.Combine(folder, name), json.ToJsonString(options));
        }
    }
}
