using System.Text.Json;
using Aspo.Data.Tokenization;

namespace Aspo.Data.Tests;

/// <summary>Exact parity with Hugging Face tokenizers 0.23.2 (tools/reference/tokenizer_parity.mjs) on the Qwen3 tokenizer.</summary>
public sealed class TokenizerParityTests
{
    private static readonly Lazy<JsonElement> s_fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizer_parity.json"))).RootElement);

    [Fact]
    public void Fixture_was_made_with_the_tokenizer_file_setup_installs() =>
        Assert.Equal(s_fixture.Value.GetProperty("tokenizer_sha256").GetString(), Qwen3Tokenizer.Sha256());

    [Fact]
    public void Every_corpus_text_encodes_to_the_reference_ids_and_round_trips()
    {
        var tokenizer = Qwen3Tokenizer.Instance;
        var failures = new List<string>();
        var count = 0;
        foreach (var c in s_fixture.Value.GetProperty("cases").EnumerateArray())
        {
            count++;
            var text = c.GetProperty("text").GetString()!;
            var expected = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var actual = tokenizer.Encode(text);
            if (!expected.AsSpan().SequenceEqual(actual))
            {
                var at = 0;
                while (at < Math.Min(expected.Length, actual.Length) && expected[at] == actual[at])
                    at++;
                failures.Add($"{JsonSerializer.Serialize(text)[..Math.Min(80, JsonSerializer.Serialize(text).Length)]}: first difference at id {at}: expected [{string.Join(",", expected.Skip(Math.Max(0, at - 2)).Take(8))}], got [{string.Join(",", actual.Skip(Math.Max(0, at - 2)).Take(8))}]");
            }
            var decoded = tokenizer.Decode(actual);
            if (decoded != c.GetProperty("decoded").GetString())
                failures.Add($"decode of {JsonSerializer.Serialize(text)[..Math.Min(60, JsonSerializer.Serialize(text).Length)]} differs from the reference decode");
        }
        Assert.True(count > 500, $"corpus has {count} texts");
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n" + string.Join("\n", failures.Take(20)));
    }

    [Fact]
    public void Decode_of_split_utf8_sequences_matches_the_reference()
    {
        var tokenizer = Qwen3Tokenizer.Instance;
        foreach (var c in s_fixture.Value.GetProperty("decodeCases").EnumerateArray())
        {
            var ids = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            Assert.Equal(c.GetProperty("text").GetString(), tokenizer.Decode(ids));
            Assert.Equal(c.GetProperty("textSkipSpecial").GetString(), tokenizer.Decode(ids, skipSpecialTokens: true));
        }
    }

    [Fact]
    public void Streaming_decode_equals_full_decode()
    {
        var tokenizer = Qwen3Tokenizer.Instance;
        foreach (var c in s_fixture.Value.GetProperty("decodeCases").EnumerateArray().Concat(s_fixture.Value.GetProperty("cases").EnumerateArray().Take(120)))
        {
            var ids = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var stream = tokenizer.CreateStreamingDecoder();
            var text = string.Concat(ids.Select(stream.Push)) + stream.Flush();
            Assert.Equal(tokenizer.Decode(ids), text);
        }
    }

    [Fact]
    public void Added_tokens_are_split_out_leftmost_longest()
    {
        var tokenizer = Qwen3Tokenizer.Instance;
        var ids = tokenizer.Encode("<|im_start|>user\nGreet shrek<|im_end|>\n");
        Assert.Equal(151644, ids[0]);
        Assert.Equal(151645, ids[^2]);
        Assert.Equal(["<|im_start|>", "user", "\n", "Greet", " shrek", "<|im_end|>", "\n"],
            PreTokenizer.Pieces("user\nGreet shrek", PreTokenizerPattern.Qwen).Prepend("<|im_start|>").Concat(["<|im_end|>", "\n"]));
    }
}
