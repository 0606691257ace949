namespace Aspo.Algorithms;

/// <summary>Response-level diagnostics from the ASPO article.</summary>
public static class Diagnostics
{
    /// <summary>
    /// Repetition ratio of one response: the share of its word n-grams that repeat an earlier n-gram of the same
    /// response, 1 − distinct/all (0 when it has fewer than n words). Words are whitespace-separated.
    /// The article logs it with n = 20.
    /// </summary>
    public static double RepetitionRatio(string text, int n = 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        var words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        var total = words.Length - n + 1;
        if (total <= 0)
            return 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < total; i++)
            seen.Add(string.Join('\u0001', words, i, n));
        return 1.0 - (double)seen.Count / total;
    }
}
