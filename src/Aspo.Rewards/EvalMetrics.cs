namespace Aspo.Rewards;

/// <summary>
/// avg@n (mean accuracy over all n samples of every prompt, the paper's avg@K) and the unbiased pass@k estimator of
/// Chen et al. (2021): per prompt with n samples of which c are correct, pass@k = 1 − C(n−c, k) / C(n, k), averaged over
/// prompts; maj@k: per prompt, the most frequent answer among its first k samples (ties: the answer seen first; samples
/// without an answer do not vote) and whether that answer is correct, averaged over prompts. Pure functions, no I/O.
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

    /// <summary>Whether the majority answer of <paramref name="samples"/> (in sample order) is correct; null when none has an answer.</summary>
    public static bool? MajorityCorrect(IReadOnlyList<GradedSample> samples)
    {
        var votes = new Dictionary<string, (int Count, int First, bool Correct)>(StringComparer.Ordinal);
        for (var i = 0; i < samples.Count; i++)
        {
            if (samples[i].Answer is not { } answer)
                continue;
            votes[answer] = votes.TryGetValue(answer, out var v) ? v with { Count = v.Count + 1 } : (1, i, samples[i].Correct);
        }
        if (votes.Count == 0)
            return null;
        var best = votes.Values.MaxBy(v => (v.Count, -v.First));
        return best.Correct;
    }

    /// <summary>
    /// One summary per data_source (sorted) and a last one over all prompts ("all"). Every prompt must have at least
    /// max(ks) samples; pass@k uses each prompt's own n; maj@k uses k = max(ks).
    /// </summary>
    public static IReadOnlyList<EvalSummary> Summarize(IEnumerable<GradedSample> samples, IReadOnlyList<int> ks)
    {
        var kMax = ks.Max();
        var prompts = samples.GroupBy(s => (s.DataSource, s.PromptUid))
            .Select(g => new PromptTally(g.Key.DataSource, g.Key.PromptUid, g.Count(), g.Count(s => s.Correct), g.Sum(s => s.Score),
                MajorityCorrect([.. g.OrderBy(s => s.SampleIndex).Take(kMax)]), g.Sum(s => (double)s.ResponseTokens), g.Count(s => s.Truncated)))
            .ToList();
        if (prompts.Count == 0)
            throw new ArgumentException("no graded samples to summarize");
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

    private sealed record PromptTally(string DataSource, string PromptUid, int N, int C, double ScoreSum, bool? Majority, double Tokens, int Truncated);

    private static EvalSummary Summary(string name, IReadOnlyList<PromptTally> prompts, IReadOnlyList<int> ks)
    {
        var samples = prompts.Sum(p => p.N);
        return new(name, prompts.Count, samples,
            AvgAtN: prompts.Average(p => (double)p.C / p.N),
            MeanScore: prompts.Average(p => p.ScoreSum / p.N),
            PassAtK: [.. ks.Select(k => (k, prompts.Average(p => PassAtK(p.N, p.C, k))))],
            MajK: ks.Max(),
            // a prompt whose samples gave no answer at all counts as wrong, unless no prompt has answers (then n/a)
            MajAtK: prompts.All(p => p.Majority is null) ? null : prompts.Average(p => p.Majority == true ? 1.0 : 0.0),
            MeanResponseLength: prompts.Sum(p => p.Tokens) / samples,
            TruncationRate: (double)prompts.Sum(p => p.Truncated) / samples);
    }
}
