using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Aspo.Rewards;

/// <summary>
/// verl's <c>math_dapo.py</c> grader (DAPO-Math, AIME; verl <c>utils/reward_score/math_dapo.py</c>): +1 correct, −1 otherwise.
/// Default (Minerva) mode: only the last 300 characters count; the last "Answer: …" line is the prediction (a
/// \boxed answer without such a line is wrong); both sides go through <c>normalize_final_answer</c> and are compared as
/// strings. Strict-box mode: the last \boxed{…} of the last 100 characters must equal the raw ground truth.
/// Python's regex substitutions are written as linear scanners with the same match semantics ('.' stops at a newline),
/// so a long or adversarial input costs microseconds, never a backtracking blow-up.
/// </summary>
public static class DapoMath
{
    // Python str \s is Unicode whitespace, which also counts the separators U+001C..U+001F
    private static readonly Regex AnswerLine = new(@"Answer[\s\x1c-\x1f]*:[\s\x1c-\x1f]*([^\n]+)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.NonBacktracking); // linear: no wall-clock timeout

    private static readonly (string Before, string After)[] Substitutions =
    [
        ("an ", ""), ("a ", ""), (".$", "$"), ("\\$", ""), ("\\ ", ""), (" ", ""), ("mbox", "text"),
        (",\\text{and}", ","), ("\\text{and}", ","), ("\\text{m}", "\\text{}"),
    ];

    private static readonly string[] RemovedExpressions =
    [
        "square", "ways", "integers", "dollars", "mph", "inches", "hours", "km", "units", "\\ldots", "sue", "points", "feet",
        "minutes", "digits", "cents", "degrees", "cm", "gm", "pounds", "meters", "meals", "edges", "students",
        "childrentickets", "multiples", "\\text{s}", "\\text{.}", "\\text{\ns}", "\\text{}^2", "\\text{}^3", "\\text{\n}",
        "\\text{}", "\\mathrm{th}", "^\\circ", "^{\\circ}", "\\;", ",\\!", "{,}", "\"", "\\dots",
    ];

    /// <summary><c>compute_score</c>: (+1 or −1, components acc ∈ {0, 1}).</summary>
    public static RewardResult Score(string response, string groundTruth, bool strictBox = false)
    {
        var tail = LastCodePoints(response, 300);
        if (strictBox)
        {
            var boxed = StrictBoxCorrect(tail, groundTruth);
            return new RewardResult(boxed ? 1 : -1, new Dictionary<string, double> { ["acc"] = boxed ? 1 : 0 });
        }
        var answer = MinervaAnswer(tail);
        var correct = answer is not null && answer == NormalizeFinalAnswer(groundTruth);
        return new RewardResult(correct ? 1 : -1, new Dictionary<string, double> { ["acc"] = correct ? 1 : 0 }, answer);
    }

    /// <summary>The normalised last "Answer: X", or null when there is none (the reference compares "[INVALID]" then).</summary>
    public static string? MinervaAnswer(string solution)
    {
        var matches = AnswerLine.Matches(solution);
        return matches.Count > 0 ? NormalizeFinalAnswer(matches[^1].Groups[1].Value) : null;
    }

    /// <summary><c>is_correct_strict_box</c>: the last \boxed{…} (balanced) of the last 100 characters equals the raw ground truth.</summary>
    public static bool StrictBoxCorrect(string solution, string groundTruth)
    {
        var pred = LastCodePoints(solution, 100);
        var index = pred.LastIndexOf("\\boxed{", StringComparison.Ordinal);
        if (index < 0)
            return false;
        var close = LatexScan.ClosingBrace(pred, index);
        return close >= 0 && pred[(index + "\\boxed{".Length)..close] == groundTruth;
    }

    /// <summary><c>normalize_final_answer</c>, step by step in the reference order.</summary>
    public static string NormalizeFinalAnswer(string answer)
    {
        var s = answer[(answer.LastIndexOf('=') + 1)..];
        foreach (var (before, after) in Substitutions)
            s = s.Replace(before, after, StringComparison.Ordinal);
        foreach (var expression in RemovedExpressions)
            s = s.Replace(expression, "", StringComparison.Ordinal);
        s = KeepFirstDollarSpan(s);
        s = Unwrap(s, "\\text{", greedy: false);
        s = Unwrap(s, "\\textbf{", greedy: false);
        s = Unwrap(s, "\\overline{", greedy: false);
        s = Unwrap(s, "\\boxed{", greedy: true);
        s = BraceArguments(s, "frac", 2);
        s = BraceArguments(s, "sqrt", 1);
        s = s.Replace("$", "", StringComparison.Ordinal);
        var noCommas = s.Replace(",", "", StringComparison.Ordinal);
        if (IsPythonDigits(noCommas))
            s = noCommas;
        return StripPython(s);
    }

    // re.sub(r"(.*?)(\$)(.*?)(\$)(.*)", "$\3$"): '.' stops at '\n', so each line with two or more '$' becomes
    // "$" + (text between its first two '$') + "$"; other lines are unchanged.
    internal static string KeepFirstDollarSpan(string s)
    {
        if (s.IndexOf('$') < 0)
            return s;
        var sb = new StringBuilder(s.Length);
        var start = 0;
        while (start <= s.Length)
        {
            var end = s.IndexOf('\n', start);
            var line = s.AsSpan(start, (end < 0 ? s.Length : end) - start);
            var first = line.IndexOf('$');
            var second = first < 0 ? -1 : line[(first + 1)..].IndexOf('$');
            if (second < 0)
                sb.Append(line);
            else
                sb.Append('$').Append(line.Slice(first + 1, second)).Append('$');
            if (end < 0)
                break;
            sb.Append('\n');
            start = end + 1;
        }
        return sb.ToString();
    }

    // re.sub(r"(\\cmd\{)(.*?)(\})", r"\2") (lazy: up to the first '}' of the line) and, greedy, re.sub(r"(\\boxed\{)(.*)(\})", r"\2")
    // (up to the last '}' of the line): '.' stops at a newline, so a match never leaves its line.
    internal static string Unwrap(string s, string command, bool greedy)
    {
        var sb = new StringBuilder(s.Length);
        var i = 0;
        while (true)
        {
            var at = s.IndexOf(command, i, StringComparison.Ordinal);
            if (at < 0)
                break;
            var contentStart = at + command.Length;
            var lineEnd = s.IndexOf('\n', contentStart);
            var end = lineEnd < 0 ? s.Length : lineEnd;
            var close = greedy ? s.LastIndexOf('}', end - 1, end - contentStart) : s.IndexOf('}', contentStart, end - contentStart);
            if (close < 0)
            {
                // no '}' before the end of this line: no later "\cmd{" on the line can match either
                sb.Append(s, i, end - i);
                i = end;
                continue;
            }
            sb.Append(s, i, at - i).Append(s, contentStart, close - contentStart);
            i = close + 1;
        }
        return sb.Append(s, i, s.Length - i).ToString();
    }

    // re.sub(r"(frac)([^{])(.)", r"frac{\2}{\3}") and re.sub(r"(sqrt)([^{])", r"sqrt{\2}"): the first argument is any
    // code point but '{' (a newline too), a second one any code point but a newline; each is wrapped in braces.
    internal static string BraceArguments(string s, string name, int arguments)
    {
        var sb = new StringBuilder(s.Length + 8);
        Span<int> bounds = stackalloc int[3]; // argument k spans [bounds[k], bounds[k + 1])
        var i = 0;
        while (true)
        {
            var at = s.IndexOf(name, i, StringComparison.Ordinal);
            if (at < 0)
                break;
            var pos = bounds[0] = at + name.Length;
            var matched = true;
            for (var k = 0; k < arguments && matched; k++)
            {
                matched = pos < s.Length && s[pos] != (k == 0 ? '{' : '\n');
                pos = bounds[k + 1] = pos + CodePointLength(s, pos);
            }
            if (!matched)
            {
                sb.Append(s, i, at + 1 - i);
                i = at + 1;
                continue;
            }
            sb.Append(s, i, at - i).Append(name);
            for (var k = 0; k < arguments; k++)
                sb.Append('{').Append(s, bounds[k], bounds[k + 1] - bounds[k]).Append('}');
            i = pos;
        }
        return sb.Append(s, i, s.Length - i).ToString();
    }

    private static int CodePointLength(string s, int i) => i + 1 < s.Length && char.IsSurrogatePair(s[i], s[i + 1]) ? 2 : 1;

    // Python str.isdigit(): non-empty and every character has a digit value (Nd digits, superscripts, circled digits …)
    private static bool IsPythonDigits(string s)
    {
        if (s.Length == 0)
            return false;
        for (var i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1)
        {
            if (CharUnicodeInfo.GetDigitValue(s, i) < 0)
                return false;
        }
        return true;
    }

    // Python str.strip(): Unicode whitespace, which includes U+001C..U+001F
    private static string StripPython(string s)
    {
        static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';
        int start = 0, end = s.Length;
        while (start < end && IsSpace(s[start]))
            start++;
        while (end > start && IsSpace(s[end - 1]))
            end--;
        return s[start..end];
    }

    /// <summary>Python's <c>s[-n:]</c>: the last n code points (a surrogate pair counts once).</summary>
    internal static string LastCodePoints(string s, int n)
    {
        var i = s.Length;
        for (var count = 0; count < n && i > 0; count++)
            i -= i >= 2 && char.IsSurrogatePair(s[i - 2], s[i - 1]) ? 2 : 1;
        return s[i..];
    }
}
