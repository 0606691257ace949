namespace Aspo.Algorithms;

/// <summary>
/// Outcome advantage estimators: one scalar score per response, grouped by prompt (the n samples of a prompt share
/// a group id), one advantage per response. verl <c>compute_*_outcome_advantage</c>.
/// </summary>
public static class AdvantageEstimators
{
    public static IReadOnlyList<string> Names { get; } = ["grpo", "dr_grpo", "rloo"];

    /// <summary>ε added to the group std in grpo.</summary>
    public const double GrpoEpsilon = 1e-6;

    /// <summary>
    /// advantages[i] for response i with score scores[i] in group groupIds[i]:
    /// <list type="bullet">
    /// <item><c>grpo</c>: (s − mean) / (std + 1e-6), std unbiased (N−1); a single-member group has mean 0, std 1.</item>
    /// <item><c>dr_grpo</c>: s − mean (no std; Dr. GRPO); single-member: mean 0.</item>
    /// <item><c>rloo</c>: s − mean of the other members = (s − mean)·n/(n−1); single-member: s.</item>
    /// </list>
    /// </summary>
    /// <exception cref="ArgumentException">unknown estimator (the message lists the valid ones) or mismatched lengths</exception>
    public static void Compute(string name, ReadOnlySpan<float> scores, ReadOnlySpan<long> groupIds, Span<float> advantages)
    {
        if (!Names.Contains(name))
            throw new ArgumentException($"unknown advantage estimator '{name}'; valid estimators: {string.Join(", ", Names)}", nameof(name));
        if (groupIds.Length != scores.Length || advantages.Length != scores.Length)
            throw new ArgumentException($"scores ({scores.Length}), groupIds ({groupIds.Length}) and advantages ({advantages.Length}) must have the same length");

        var groups = GroupStatistics(scores, groupIds);
        for (var i = 0; i < scores.Length; i++)
        {
            var g = groups[groupIds[i]];
            double s = scores[i];
            advantages[i] = (float)(name switch
            {
                "grpo" => g.Count == 1 ? s / (1 + GrpoEpsilon) : (s - g.Mean) / (g.StdUnbiased + GrpoEpsilon),
                "dr_grpo" => g.Count == 1 ? s : s - g.Mean,
                _ /* rloo */ => g.Count == 1 ? s : (s - g.Mean) * g.Count / (g.Count - 1),
            });
        }
    }

    /// <summary>Per group: member count, mean, unbiased standard deviation (0 for a single member).</summary>
    internal static Dictionary<long, (int Count, double Mean, double StdUnbiased)> GroupStatistics(ReadOnlySpan<float> scores, ReadOnlySpan<long> groupIds)
    {
        var sums = new Dictionary<long, (int Count, double Sum)>();
        for (var i = 0; i < scores.Length; i++)
        {
            sums.TryGetValue(groupIds[i], out var acc);
            sums[groupIds[i]] = (acc.Count + 1, acc.Sum + scores[i]);
        }
        var squares = new Dictionary<long, double>();
        for (var i = 0; i < scores.Length; i++)
        {
            var (count, sum) = sums[groupIds[i]];
            var dev = scores[i] - sum / count;
            squares[groupIds[i]] = squares.GetValueOrDefault(groupIds[i]) + dev * dev;
        }
        var result = new Dictionary<long, (int, double, double)>();
        foreach (var (id, (count, sum)) in sums)
            result[id] = (count, sum / count, count > 1 ? Math.Sqrt(squares[id] / (count - 1)) : 0);
        return result;
    }

    /// <summary>tokenAdvantages[t] = advantages[i]·mask[t] for every token t of sequence i.</summary>
    public static void BroadcastToTokens(ReadOnlySpan<float> advantages, ReadOnlySpan<int> sequenceOffsets, ReadOnlySpan<float> mask, Span<float> tokenAdvantages)
    {
        if (sequenceOffsets.Length != advantages.Length + 1)
            throw new ArgumentException($"{advantages.Length} advantages need {advantages.Length + 1} sequence offsets, got {sequenceOffsets.Length}");
        for (var i = 0; i < advantages.Length; i++)
            for (var t = sequenceOffsets[i]; t < sequenceOffsets[i + 1]; t++)
                tokenAdvantages[t] = advantages[i] * mask[t];
    }
}
