using System.Text.RegularExpressions;

namespace Aspo.Rewards;

/// <summary>
/// verl's <c>gsm8k.py</c>: on the last 300 characters (code points), "strict" takes the last "#### N" (N = optional
/// minus, then digits, dots and commas), drops commas and dollar signs, and compares the text to the ground truth
/// exactly; "flexible" takes the last such number anywhere that is not "" or ".". 1.0 when equal, else 0.0.
/// </summary>
public static class Gsm8k
{
    // NonBacktracking: linear time in the input, so no wall-clock timeout — a grade never depends on how busy the machine is
    private static readonly Regex Strict = new(@"#### (\-?[0-9\.\,]+)", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
    private static readonly Regex Flexible = new(@"(\-?[0-9\.\,]+)", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);

    public static string? ExtractSolution(string response, bool flexible = false)
    {
        var tail = DapoMath.LastCodePoints(response, 300);
        if (!flexible)
        {
            var matches = Strict.Matches(tail);
            return matches.Count == 0 ? null : matches[^1].Groups[1].Value.Replace(",", "", StringComparison.Ordinal).Replace("$", "", StringComparison.Ordinal);
        }
        var numbers = Flexible.Matches(tail);
        // the reference loops over the matches from the end and keeps the last one it saw: the first valid, else the earliest
        string? answer = null;
        for (var i = numbers.Count - 1; i >= 0; i--)
        {
            answer = numbers[i].Groups[1].Value;
            if (answer is not ("" or "."))
                break;
        }
        return answer;
    }

    public static RewardResult Score(string response, string groundTruth, bool flexible = false)
    {
        var answer = ExtractSolution(response, flexible);
        var correct = answer is not null && answer == groundTruth;
        return new RewardResult(correct ? 1 : 0, new Dictionary<string, double> { ["format"] = answer is null ? 0 : 1 }, answer);
    }
}
