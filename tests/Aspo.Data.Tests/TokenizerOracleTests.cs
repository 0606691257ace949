using System.Text;
using System.Text.Json;

namespace Aspo.Data.Tests;

/// <summary>
/// Hugging Face tokenizers (Rust, through Tokenizers.DotNet) as an in-process encoding oracle: the parity corpus plus
/// thousands of seeded random texts over many scripts, so the corpus grows without the Node script. (Its decoding
/// always skips special tokens, so decoding is checked against the Node fixture instead.)
/// </summary>
public sealed class TokenizerOracleTests
{
    [Fact]
    public void Encoding_matches_hugging_face_on_the_corpus_and_random_texts()
    {
        using var oracle = new Tokenizers.DotNet.Tokenizer(Qwen3Tokenizer.Path);
        var ours = Qwen3Tokenizer.Instance;
        var fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizer_parity.json"))).RootElement;
        var texts = fixture.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("text").GetString()!).Concat(RandomTexts(3000, seed: 17)).ToList();
        var failures = new List<string>();
        foreach (var text in texts)
        {
            var expected = oracle.Encode(text).Select(id => (int)id).ToArray();
            var actual = ours.Encode(text);
            if (!expected.AsSpan().SequenceEqual(actual))
                failures.Add($"{JsonSerializer.Serialize(text)}: HF [{string.Join(",", expected.Take(12))}…], ours [{string.Join(",", actual.Take(12))}…]");
        }
        Assert.True(texts.Count > 3400);
        Assert.True(failures.Count == 0, $"{failures.Count} of {texts.Count} texts differ:\n" + string.Join("\n", failures.Take(10)));
    }

    /// <summary>Random valid UTF-16 texts mixing ASCII, Latin, Greek, Cyrillic, Arabic, Devanagari, Thai, CJK, Hangul,
    /// full-width forms, emoji, math alphanumerics (astral), combining marks, whitespace runs, contractions and added tokens.</summary>
    private static IEnumerable<string> RandomTexts(int count, int seed)
    {
        (int Lo, int Hi)[] blocks =
        [
            (0x20, 0x7E), (0x20, 0x7E), (0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x600, 0x6FF),
            (0x900, 0x97F), (0xE00, 0xE7F), (0x2000, 0x206F), (0x3000, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xFF00, 0xFFEF),
            (0x1F300, 0x1F64F), (0x1D400, 0x1D7FF), (0x20000, 0x2A6DF),
        ];
        string[] pieces = ["\n", "\r\n", "\t", " ", "   ", "'s", "'LL", "'re", "<|im_end|>", "<think>", "123", "4567", "\u00A0", "\u3000", "\n\n", " \n "];
        var rng = new Random(seed);
        for (var k = 0; k < count; k++)
        {
            var sb = new StringBuilder();
            var n = 1 + rng.Next(60);
            for (var j = 0; j < n; j++)
            {
                if (rng.NextDouble() < 0.2)
                {
                    sb.Append(pieces[rng.Next(pieces.Length)]);
                    continue;
                }
                var (lo, hi) = blocks[rng.Next(blocks.Length)];
                var cp = lo + rng.Next(hi - lo + 1);
                if (cp is >= 0xD800 and <= 0xDFFF)
                    continue;
                sb.Append(char.ConvertFromUtf32(cp));
            }
            yield return sb.ToString();
        }
    }
}
