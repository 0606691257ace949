using System.Globalization;
using System.Text;

namespace Aspo.Data.Tokenization;

/// <summary>
/// The pre-tokenizer regexes written as scanners over runes (not .NET Regex, whose \p{L} misses letters outside the
/// BMP). Each call returns the end of the piece starting at <c>start</c>, following the regex's ordered alternation
/// and backtracking exactly, as Hugging Face tokenizers' <c>Split</c> pre-tokenizer (Rust <c>fancy-regex</c>) matches it.
/// </summary>
public static class PreTokenizer
{
    public const string QwenRegex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    public const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    public const string Gpt2Regex = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>The scanner for a Split regex from tokenizer.json, or null when the pattern is not one of the known ones.</summary>
    public static PreTokenizerPattern? Recognise(string regex) => regex switch
    {
        QwenRegex => PreTokenizerPattern.Qwen,
        Llama3Regex => PreTokenizerPattern.Llama3,
        Gpt2Regex => PreTokenizerPattern.Gpt2,
        _ => null,
    };

    private enum Kind : byte { Letter, Number, Space, Newline, Other }

    private static Kind Classify(Rune r)
    {
        if (r.Value is '\r' or '\n')
            return Kind.Newline;
        switch (Rune.GetUnicodeCategory(r))
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                return Kind.Letter;
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
                return Kind.Number;
        }
        return Rune.IsWhiteSpace(r) ? Kind.Space : Kind.Other;
    }

    /// <summary>The end of the piece that starts at <paramref name="start"/> (exclusive).</summary>
    public static int NextPiece(ReadOnlySpan<char> text, int start, PreTokenizerPattern pattern) =>
        pattern == PreTokenizerPattern.Gpt2 ? NextGpt2(text, start) : NextCl100k(text, start, pattern == PreTokenizerPattern.Llama3 ? 3 : 1);

    /// <summary>All pieces of <paramref name="text"/>, in order (for inspection and tests; encoding walks with <see cref="NextPiece"/>).</summary>
    public static List<string> Pieces(string text, PreTokenizerPattern pattern)
    {
        var pieces = new List<string>();
        for (var i = 0; i < text.Length;)
        {
            var end = NextPiece(text, i, pattern);
            pieces.Add(text[i..end]);
            i = end;
        }
        return pieces;
    }

    private static (Rune Rune, Kind Kind, int Width) At(ReadOnlySpan<char> text, int i)
    {
        if (i >= text.Length)
            return (default, Kind.Other, 0);
        Rune.DecodeFromUtf16(text[i..], out var r, out var width); // a lone surrogate decodes as U+FFFD, width 1
        return (r, Classify(r), width);
    }

    private static int RunOf(ReadOnlySpan<char> text, int i, Kind kind)
    {
        while (true)
        {
            var (_, k, w) = At(text, i);
            if (w == 0 || k != kind)
                return i;
            i += w;
        }
    }

    private static int RunOfOther(ReadOnlySpan<char> text, int i) => RunOf(text, i, Kind.Other);

    /// <summary>Case-insensitive contraction after an apostrophe at i ('s 't 're 've 'm 'll 'd); returns its end or -1.</summary>
    private static int Contraction(ReadOnlySpan<char> text, int i, bool ignoreCase)
    {
        if (text[i] != '\'')
            return -1;
        static bool Is(char c, char lower, bool ignoreCase) =>
            c == lower || (ignoreCase && (char.ToLowerInvariant(c) == lower || (lower == 's' && c == '\u017F') || (lower == 'k' && c == '\u212A')));
        ReadOnlySpan<string> forms = ["s", "t", "re", "ve", "m", "ll", "d"];
        foreach (var form in forms)
        {
            if (i + 1 + form.Length > text.Length)
                continue;
            var ok = true;
            for (var k = 0; k < form.Length && ok; k++)
                ok = Is(text[i + 1 + k], form[k], ignoreCase);
            if (ok)
                return i + 1 + form.Length;
        }
        return -1;
    }

    private static int NextCl100k(ReadOnlySpan<char> text, int i, int maxDigits)
    {
        var (_, kind, width) = At(text, i);
        // 1. (?i:'s|'t|'re|'ve|'m|'ll|'d)
        var contraction = Contraction(text, i, ignoreCase: true);
        if (contraction > 0)
            return contraction;
        // 2. [^\r\n\p{L}\p{N}]?\p{L}+
        if (kind == Kind.Letter)
            return RunOf(text, i, Kind.Letter);
        if (kind is Kind.Space or Kind.Other && At(text, i + width).Kind == Kind.Letter)
            return RunOf(text, i + width, Kind.Letter);
        // 3. \p{N}{1,k}
        if (kind == Kind.Number)
        {
            var end = i;
            for (var n = 0; n < maxDigits; n++)
            {
                var (_, k, w) = At(text, end);
                if (w == 0 || k != Kind.Number)
                    break;
                end += w;
            }
            return end;
        }
        //  4. ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        var otherStart = kind == Kind.Other ? i : text[i] == ' ' && At(text, i + 1).Kind == Kind.Other ? i + 1 : -1;
        if (otherStart >= 0)
            return RunOf(text, RunOfOther(text, otherStart), Kind.Newline);
        // 5–7: whitespace (Space or Newline)
        var runEnd = i;
        var lastNewlineEnd = -1;
        while (true)
        {
            var (_, k, w) = At(text, runEnd);
            if (w == 0 || k is not (Kind.Space or Kind.Newline))
                break;
            runEnd += w;
            if (k == Kind.Newline)
                lastNewlineEnd = runEnd;
        }
        if (lastNewlineEnd > 0)
            return lastNewlineEnd;                       // \s*[\r\n]+
        if (runEnd == text.Length)
            return runEnd;                               // \s+(?!\S) at the end
        var lastStart = PreviousRuneStart(text, runEnd);
        return lastStart > i ? lastStart : runEnd;       // \s+(?!\S) backs off one; else \s+
    }

    private static int NextGpt2(ReadOnlySpan<char> text, int i)
    {
        var contraction = Contraction(text, i, ignoreCase: false);
        if (contraction > 0)
            return contraction;
        var (_, kind, _) = At(text, i);
        var afterSpace = text[i] == ' ' ? At(text, i + 1).Kind : (Kind?)null;
        var start = afterSpace is Kind.Letter or Kind.Number or Kind.Other ? i + 1 : i;
        var first = start == i ? kind : afterSpace!.Value;
        switch (first)
        {
            case Kind.Letter: return RunOf(text, start, Kind.Letter);
            case Kind.Number: return RunOf(text, start, Kind.Number);
            case Kind.Other: return RunOfOther(text, start);
        }
        var runEnd = i;
        while (true)
        {
            var (_, k, w) = At(text, runEnd);
            if (w == 0 || k is not (Kind.Space or Kind.Newline))
                break;
            runEnd += w;
        }
        if (runEnd == text.Length)
            return runEnd;
        var lastStart = PreviousRuneStart(text, runEnd);
        return lastStart > i ? lastStart : runEnd;
    }

    private static int PreviousRuneStart(ReadOnlySpan<char> text, int end) =>
        end >= 2 && char.IsLowSurrogate(text[end - 1]) && char.IsHighSurrogate(text[end - 2]) ? end - 2 : end - 1;
}
