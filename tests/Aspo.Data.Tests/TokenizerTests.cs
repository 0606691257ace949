using System.Text.Json.Nodes;
using Aspo.Data.Tokenization;

namespace Aspo.Data.Tests;

public sealed class TokenizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-tok-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A tiny byte-level tokenizer.json: the 256 byte characters, a few merges, two added tokens.</summary>
    private JsonObject Tiny(bool arrayMerges = true)
    {
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++)
            vocab[ByteLevel.ByteToChar[b].ToString()] = b;
        vocab["he"] = 256; vocab["ll"] = 257; vocab["hell"] = 258; vocab["hello"] = 259; vocab["Ġw"] = 260;
        string[][] merges = [["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"], ["Ġ", "w"]];
        return new JsonObject
        {
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 300, ["content"] = "<|end|>", ["special"] = true },
                new JsonObject { ["id"] = 301, ["content"] = "<|end|>x", ["special"] = false }),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = PreTokenizer.QwenRegex }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["vocab"] = vocab,
                ["merges"] = arrayMerges
                    ? new JsonArray(merges.Select(m => (JsonNode)new JsonArray(m[0], m[1])).ToArray())
                    : new JsonArray(merges.Select(m => (JsonNode)$"{m[0]} {m[1]}").Prepend("#version: 0.2").ToArray()),
            },
        };
    }

    private string Write(JsonObject json)
    {
        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Both_merge_forms_load_and_merge_by_rank(bool arrayMerges)
    {
        var t = BpeTokenizer.Load(Write(Tiny(arrayMerges)));
        Assert.Equal([259, 260, 111, 114, 108, 100], t.Encode("hello world"));       // hello | Ġw o r l d
        Assert.Equal([301, 259], t.Encode("<|end|>xhello"));                         // leftmost-longest added token
        Assert.Equal([259, 300], t.Encode("hello<|end|>"));
        Assert.Equal("hello<|end|>", t.Decode([259, 300]));
        Assert.Equal("hello", t.Decode([259, 300], skipSpecialTokens: true));
        Assert.Equal("hello", t.Decode([999, 259, -1]));                               // ids without a token are skipped, as HF does
    }

    [Fact]
    public void Unsupported_or_broken_tokenizers_are_named()
    {
        Assert.Contains("tokenizer.json not found", Assert.Throws<DataFormatException>(() => BpeTokenizer.Load(Path.Combine(_dir, "nope"))).Message);

        var path = Path.Combine(_dir, "tokenizer.json");
        File.WriteAllText(path, "{ not json");
        Assert.Contains($"{path}: not valid JSON", Assert.Throws<DataFormatException>(() => BpeTokenizer.Load(path)).Message);

        var json = Tiny();
        json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = "\\w+";
        Assert.Contains("is not one of the implemented ones (Qwen2/3, Llama-3, GPT-2)", Assert.Throws<DataFormatException>(() => BpeTokenizer.Load(Write(json))).Message);

        json = Tiny();
        json["model"]!["byte_fallback"] = true;
        Assert.Contains("byte_fallback = true (SentencePiece-style BPE) is not supported", Assert.Throws<DataFormatException>(() => BpeTokenizer.Load(Write(json))).Message);

        json = Tiny();
        json["model"]!["type"] = "Unigram";
        Assert.Contains("model.type \"Unigram\" is not supported", Assert.Throws<DataFormatException>(() => BpeTokenizer.Load(Write(json))).Message);

        json = Tiny();
        ((JsonArray)json["model"]!["merges"]!).Add(new JsonArray("zz", "q"));
        Assert.Contains("model.merges[5] (zz + q) uses a token that is not in model.vocab", Assert.Throws<DataFormatException>(() => BpeTokenizer.Load(Write(json))).Message);

        json = Tiny();
        json["normalizer"] = new JsonObject { ["type"] = "Lowercase" };
        Assert.Contains("normalizer {\"type\":\"Lowercase\"} is not supported", Assert.Throws<DataFormatException>(() => BpeTokenizer.Load(Write(json))).Message);
    }

    [Fact]
    public void Scanner_splits_like_the_regex_on_documented_examples()
    {
        Assert.Equal(["What", " is", " the", " sum", " of", " ", "4", "0", " and", " ", "2", "?"],
            PreTokenizer.Pieces("What is the sum of 40 and 2?", PreTokenizerPattern.Qwen));
        Assert.Equal(["123", "456"], PreTokenizer.Pieces("123456", PreTokenizerPattern.Llama3));
        Assert.Equal(["  ", " word"], PreTokenizer.Pieces("   word", PreTokenizerPattern.Qwen));        // \s+(?!\S) backs off one
        Assert.Equal(["a", " \n\n", " b"], PreTokenizer.Pieces("a \n\n b", PreTokenizerPattern.Qwen));  // \s*[\r\n]+ ends after the last newline
        Assert.Equal(["'s", "am"], PreTokenizer.Pieces("'sam", PreTokenizerPattern.Qwen));
        Assert.Equal(["Hello", " world", "'s"], PreTokenizer.Pieces("Hello world's", PreTokenizerPattern.Gpt2));
    }
}
