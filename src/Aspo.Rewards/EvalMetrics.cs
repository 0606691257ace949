namespace Aspo.Rewards;

/// <summary>One graded sample for evaluation: which prompt it answers, its score and whether it counts as correct.</summary>
public readonly record struct GradedSample(string DataSource, string PromptUid, double Score, bool Correct);

/// <summary>Evaluation figures of one data_source (or "all"): avg@n and pass@k over prompts with n samples each.</summary>
public sealed record EvalSummary(string DataSource, int Prompts, int Samples, double AvgAtN, double MeanScore, IReadOnlyList<(int K, double PassAtK)> PassAtK);

/// <summary>
/// avg@n (mean accuracy over all n samples of every prompt, the paper's avg@K) and the unbiased pass@k estimator of
/// Chen et al. (2021): per prompt with n samples of which c are correct, pass@k = 1 − C(n−c, k) / C(n, k), averaged over
/// prompts. Pure functions, no I/O.
/// </summary>
public static class EvalMetrics
{
    /// <summary>Whether a reward verdict counts as correct: its "acc" component when it has one (math_dapo scores ±1), else score &gt; 0.</summary>
    public static bool IsCorrect(RewardResult result) =>
        result.Components.TryGetValue("acc", out var acc) ? acc > 0 : result.Score > 0;

    /// <summary>1 − C(n−c, k)/C(n, k), as the product Π_{i=n−c+1..n} (1 − k/i) so large n never overflows.</summary>
    public static double PassAtK(int n, int c, int k)
    {
        if (n < 1 || c < 0 || c > n || k < 1 || k > n)
            throw new ArgumentOutOfRangeException(nameof(k), $"pass@k needs 1 ≤ k ≤ n and 0 ≤ c ≤ n, got n={n}, c={c}, k={k}");
        if (n - c < k)
            return 1;
        var allWrong = 1.0;
        for (var i = n - c + 1; i <= n; i++)
            allWrong *= 1 - (double)k / i;
        return 1 - allWrong;
    }

    /// <summary>The k reported for n samples: 1, 2, 4, … up to n, and n itself.</summary>
    public static IReadOnlyList<int> DefaultKs(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        var ks = new List<int>();
        for (var k = 1; k <= n; k *= 2)
            ks.Add(k);
        if (ks[^1] != n)
            ks.Add(n);
        return ks;
    }

    /// <summary>
    /// One summary per data_source (sorted) and a last one over all prompts ("all"). Every prompt must have at least
    /// max(ks) samples; pass@k uses each prompt's own n.
    /// </summary>
    public static IReadOnlyList<EvalSummary> Summarize(IEnumerable<GradedSample> samples, IReadOnlyList<int> ks)
    {
        var prompts = samples.GroupBy(s => (s.DataSource, s.PromptUid))
            .Select(g => (g.Key.DataSource, g.Key.PromptUid, N: g.Count(), C: g.Count(s => s.Correct), ScoreSum: g.Sum(s => s.Score)))
            .ToList();
        if (prompts.Count == 0)
            throw new ArgumentException("no graded samples to summarize");
        var kMax = ks.Max();
        foreach (var p in prompts)
        {
            if (p.N < kMax)
                throw new ArgumentException($"prompt {p.PromptUid} has {p.N} samples, fewer than k = {kMax}");
        }
        var summaries = new List<EvalSummary>();
        foreach (var group in prompts.GroupBy(p => p.DataSource).OrderBy(g => g.Key, StringComparer.Ordinal))
            summaries.Add(Summary(group.Key, [.. group], ks));
        summaries.Add(Summary("all", prompts, ks));
        return summaries;
    }

    private static EvalSummary Summary(string name, IReadOnlyList<(string DataSource, string PromptUid, int N, int C, double ScoreSum)> prompts, IReadOnlyList<int> ks) =>
        new(name, prompts.Count, prompts.Sum(p => p.N),
            AvgAtN: prompts.Average(p => (double)p.C / p.N),
            MeanScore: prompts.Average(p => p.ScoreSum / p.N),
            PassAtK: [.. ks.Select(k => (k, prompts.Average(p => PassAtK(p.N, p.C, k))))]);
}
