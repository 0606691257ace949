using System.Buffers;
using System.Text;
using System.Text.Json;
using Aspo.Data.Tokenization;
using Microsoft.ML.Tokenizers;

namespace Aspo.Data.Tests;

/// <summary>Our tokenizer used through the Microsoft.ML.Tokenizers API, checked against Hugging Face's ids, offsets and decodes (the parity fixture).</summary>
public sealed class MlTokenizerTests
{
    private static readonly Lazy<JsonElement> s_fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizer_parity.json"))).RootElement);

    private static Tokenizer Create() => new MlTokenizer(Qwen3Tokenizer.Instance);

    private static IEnumerable<(string Text, int[] Ids, (int Start, int End)[] Offsets, string Decoded)> Cases() =>
        s_fixture.Value.GetProperty("cases").EnumerateArray().Select(c => (
            c.GetProperty("text").GetString()!,
            c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            c.GetProperty("offsets").EnumerateArray().Select(o => (o[0].GetInt32(), o[1].GetInt32())).ToArray(),
            c.GetProperty("decoded").GetString()!));

    [Fact]
    public void Ids_counts_and_decodes_match_hugging_face()
    {
        var tokenizer = Create();
        var count = 0;
        foreach (var (text, ids, _, decoded) in Cases())
        {
            Assert.Equal(ids, tokenizer.EncodeToIds(text));
            Assert.Equal(ids, tokenizer.EncodeToIds(text.AsSpan()));
            Assert.Equal(ids.Length, tokenizer.CountTokens(text));
            Assert.Equal(decoded, tokenizer.Decode(ids));
            count++;
        }
        Assert.True(count > 500);
    }

    /// <summary>HF reports offsets in code points of the original text; ours are UTF-16 ranges of the text encoded.
    /// Compared on the texts NFC leaves unchanged (on the others HF aligns offsets back to the original text, we
    /// report them in the normalized text and return it, as Microsoft.ML.Tokenizers defines).</summary>
    [Fact]
    public void Token_offsets_match_hugging_face()
    {
        var tokenizer = Create();
        var compared = 0;
        foreach (var (text, ids, offsets, _) in Cases())
        {
            var tokens = tokenizer.EncodeToTokens(text, out var normalized);
            Assert.Equal(ids, tokens.Select(t => t.Id));
            if (!text.IsNormalized(NormalizationForm.FormC))
            {
                Assert.Equal(text.Normalize(NormalizationForm.FormC), normalized);
                continue;
            }
            Assert.Null(normalized);
            var utf16 = Utf16Index(text);
            for (var i = 0; i < tokens.Count; i++)
            {
                var (start, end) = tokens[i].Offset.GetOffsetAndLength(text.Length) is var (o, l) ? (o, o + l) : default;
                Assert.True((utf16[offsets[i].Start], utf16[offsets[i].End]) == (start, end),
                    $"{JsonSerializer.Serialize(text)} token {i} ({ids[i]}): HF [{offsets[i].Start}, {offsets[i].End}) code points, ours [{start}, {end}) UTF-16");
            }
            compared++;
        }
        Assert.True(compared > 450, $"{compared} texts compared");
    }

    /// <summary>UTF-16 index of each code point index (and of the end).</summary>
    private static int[] Utf16Index(string text)
    {
        var index = new List<int>();
        for (var i = 0; i < text.Length; i += char.IsSurrogatePair(text, i) ? 2 : 1)
            index.Add(i);
        index.Add(text.Length);
        return [.. index];
    }

    [Fact]
    public void A_token_budget_stops_at_a_whole_character()
    {
        var tokenizer = Create();
        const string text = "a𠀀b and more"; // 𠀀 is three byte tokens sharing one character
        var all = tokenizer.EncodeToIds(text);
        var ids = tokenizer.EncodeToIds(text, maxTokenCount: 2, out var normalized, out var consumed);
        Assert.Null(normalized);
        Assert.Equal(all.Take(1), ids); // the second token is only part of 𠀀: left out with the rest of it
        Assert.Equal(1, consumed);
        ids = tokenizer.EncodeToIds(text, maxTokenCount: 4, out _, out consumed);
        Assert.Equal(all.Take(4), ids);
        Assert.Equal(3, consumed); // a, 𠀀 (two UTF-16 units)
        Assert.Equal(tokenizer.Decode(all.Take(4)), text[..consumed]);
    }

    [Fact]
    public void Decoding_into_a_span_reports_what_fit()
    {
        var tokenizer = Create();
        var ids = tokenizer.EncodeToIds("Hello, 世界! 😀");
        var full = tokenizer.Decode(ids);
        var buffer = new char[full.Length];
        Assert.Equal(OperationStatus.Done, tokenizer.Decode(ids, buffer, out var consumed, out var written));
        Assert.Equal((ids.Count, full.Length), (consumed, written));
        Assert.Equal(full, new string(buffer));
        var small = new char[8];
        Assert.Equal(OperationStatus.DestinationTooSmall, tokenizer.Decode(ids, small, out consumed, out written));
        Assert.True(consumed < ids.Count && written <= 8);
        Assert.Equal(tokenizer.Decode(ids.Take(consumed)), new string(small, 0, written));
    }

    [Fact]
    public void Special_tokens_are_encoded_and_decoded_with_their_text()
    {
        var tokenizer = Create();
        var tokens = tokenizer.EncodeToTokens("<|im_start|>user\nhi<|im_end|>", out _);
        Assert.Equal(151644, tokens[0].Id);
        Assert.Equal("<|im_start|>", tokens[0].Value);
        Assert.Equal(0..12, tokens[0].Offset);
        Assert.Equal("<|im_start|>user\nhi<|im_end|>", tokenizer.Decode(tokens.Select(t => t.Id)));
    }
}
