using System.Text.RegularExpressions;

namespace Aspo.Rewards;

/// <summary>
/// The Hendrycks MATH grader exactly as verl's <c>math_reward.py</c> (= lm-eval-harness) behaves
/// (verl <c>utils/reward_score/math_reward.py</c>): the last <c>\boxed</c> answer, 17 normalisation steps in order, string equality;
/// where the Python code would raise inside normalisation the raw strings are compared, and where it would raise during
/// extraction the score is 0. Plain string operations, linear in the input: no regex backtracking, no exceptions out.
/// </summary>
public static class HendrycksMath
{
    /// <summary>1 when the last boxed answer of <paramref name="response"/> equals <paramref name="groundTruth"/> after normalisation, else 0.</summary>
    public static double Score(string response, string groundTruth)
    {
        var boxed = LastBoxedOnlyString(response);
        if (boxed is null)
            return 0;
        var answer = RemoveBoxed(boxed);
        return answer is not null && IsEquivalent(answer, groundTruth) ? 1 : 0;
    }

    /// <summary><c>last_boxed_only_string</c>: the "\boxed " form first (up to the next $), else the last \boxed (or \fbox) with balanced braces; null if none or unclosed.</summary>
    public static string? LastBoxedOnlyString(string s)
    {
        const string spaced = "\\boxed ";
        var spacedAt = s.LastIndexOf(spaced, StringComparison.Ordinal);
        if (spacedAt >= 0)
        {
            var rest = s[(spacedAt + spaced.Length)..];
            var dollar = rest.IndexOf('$');
            return spaced + (dollar >= 0 ? rest[..dollar] : rest);
        }
        var index = s.LastIndexOf("\\boxed", StringComparison.Ordinal);
        if (index < 0)
            index = s.LastIndexOf("\\fbox", StringComparison.Ordinal);
        if (index < 0)
            return null;
        var close = LatexScan.ClosingBrace(s, index);
        return close < 0 ? null : s[index..(close + 1)];
    }

    /// <summary><c>remove_boxed</c>: the content of "\boxed X" or "\boxed{X}"; null where Python asserts (e.g. an \fbox hit).</summary>
    public static string? RemoveBoxed(string s)
    {
        if (s.Contains("\\boxed ", StringComparison.Ordinal))
            return s.StartsWith("\\boxed ", StringComparison.Ordinal) ? s["\\boxed ".Length..] : null;
        return s.StartsWith("\\boxed{", StringComparison.Ordinal) && s.EndsWith('}') ? s["\\boxed{".Length..^1] : null;
    }

    /// <summary><c>is_equiv</c>: normalised equality, or raw equality when normalisation raises.</summary>
    public static bool IsEquivalent(string a, string b)
    {
        try
        {
            return StripString(a) == StripString(b);
        }
        catch (NormalizationFailed)
        {
            return a == b;
        }
    }

    /// <summary>The normalised answer (what maj@k votes on), or the raw text where normalisation raises.</summary>
    public static string NormalizedOrRaw(string answer)
    {
        try
        {
            return StripString(answer);
        }
        catch (NormalizationFailed)
        {
            return answer;
        }
    }

    /// <summary>Where the Python normalisation raises (assert, IndexError).</summary>
    internal sealed class NormalizationFailed : Exception;

    /// <summary><c>strip_string</c>, the 17 steps in order.</summary>
    internal static string StripString(string s)
    {
        s = s.Replace("\n", "", StringComparison.Ordinal);
        s = s.Replace("\\!", "", StringComparison.Ordinal);
        s = s.Replace("\\\\", "\\", StringComparison.Ordinal);
        s = s.Replace("tfrac", "frac", StringComparison.Ordinal);
        s = s.Replace("dfrac", "frac", StringComparison.Ordinal);
        s = s.Replace("\\left", "", StringComparison.Ordinal);
        s = s.Replace("\\right", "", StringComparison.Ordinal);
        s = s.Replace("^{\\circ}", "", StringComparison.Ordinal);
        s = s.Replace("^\\circ", "", StringComparison.Ordinal);
        s = s.Replace("\\$", "", StringComparison.Ordinal);
        s = RemoveRightUnits(s);
        s = s.Replace("\\\\%", "", StringComparison.Ordinal);
        s = s.Replace("\\%", "", StringComparison.Ordinal);
        s = s.Replace(" .", " 0.", StringComparison.Ordinal);
        s = s.Replace("{.", "{0.", StringComparison.Ordinal);
        if (s.Length == 0)
            return s;
        if (s[0] == '.')
            s = "0" + s;
        var equalsParts = s.Split('=');
        if (equalsParts.Length == 2 && equalsParts[0].Length <= 2)
            s = equalsParts[1];
        s = FixSqrt(s);
        s = s.Replace(" ", "", StringComparison.Ordinal);
        s = FixFracs(s);
        if (s == "0.5")
            s = "\\frac{1}{2}";
        return FixASlashB(s);
    }

    private static string RemoveRightUnits(string s)
    {
        if (!s.Contains("\\text{ ", StringComparison.Ordinal))
            return s;
        var parts = s.Split("\\text{ ");
        return parts.Length == 2 ? parts[0] : throw new NormalizationFailed();
    }

    private static string FixSqrt(string s)
    {
        if (!s.Contains("\\sqrt", StringComparison.Ordinal))
            return s;
        var parts = s.Split("\\sqrt");
        var result = new System.Text.StringBuilder(parts[0]);
        foreach (var part in parts.Skip(1))
        {
            if (part.Length == 0)
                throw new NormalizationFailed(); // split[0] on an empty string
            if (part[0] != '{')
                result.Append("\\sqrt{").Append(part[0]).Append('}').Append(part.AsSpan(1));
            else
                result.Append("\\sqrt").Append(part);
        }
        return result.ToString();
    }

    private static string FixFracs(string s)
    {
        var parts = s.Split("\\frac");
        var result = new System.Text.StringBuilder(parts[0]);
        foreach (var part in parts.Skip(1))
        {
            result.Append("\\frac");
            if (part.Length == 0)
                throw new NormalizationFailed(); // substr[0] on an empty string
            if (part[0] == '{')
            {
                result.Append(part);
                continue;
            }
            if (part.Length < 2)
                return s; // the Python code returns the input unchanged here
            char a = part[0], b = part[1];
            if (b != '{')
                result.Append('{').Append(a).Append("}{").Append(b).Append('}').Append(part.AsSpan(2));
            else
                result.Append('{').Append(a).Append('}').Append(b).Append(part.AsSpan(2));
        }
        return result.ToString();
    }

    private static readonly Regex CanonicalInteger = new(@"^(-?[1-9][0-9]*|0)$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking); // linear: no wall-clock timeout

    /// <summary>"a/b" with a, b written exactly as Python prints int(a), int(b) → \frac{a}{b}.</summary>
    private static string FixASlashB(string s)
    {
        var parts = s.Split('/');
        if (parts.Length != 2 || parts[0].Length > 400 || parts[1].Length > 400)
            return s;
        return CanonicalInteger.IsMatch(parts[0]) && CanonicalInteger.IsMatch(parts[1]) ? $"\\frac{{{parts[0]}}}{{{parts[1]}}}" : s;
    }
}
