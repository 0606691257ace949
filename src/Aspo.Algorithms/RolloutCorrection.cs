namespace Aspo.Algorithms;

/// <summary>
/// Importance weights for the mismatch between the rollout engine and the learner (truncated IS, Yao et al. 2025;
/// verl <c>rollout_corr_helper</c>): token level w_t = exp(clamp(ℓ_old − ℓ_roll, ±20)); sequence level
/// w_i = exp(clamp(Σ_t m·(ℓ_old − ℓ_roll), ±20)) broadcast to the sequence's tokens; then truncated or masked at C.
/// The weights are constants (no gradient) that multiply each token's loss and gradient.
/// </summary>
public static class RolloutCorrection
{
    /// <summary>Fills <paramref name="weights"/> [N] (0 on masked tokens) and returns the statistics of the untruncated weights.</summary>
    public static RolloutCorrectionStats ComputeWeights(RolloutCorrectionOptions options, ReadOnlySpan<float> oldLogProbs,
        ReadOnlySpan<float> rolloutLogProbs, ReadOnlySpan<float> mask, ReadOnlySpan<int> sequenceOffsets, Span<float> weights)
    {
        if (options.Level == RolloutCorrectionLevel.Off)
            throw new ArgumentException("rollout correction is off", nameof(options));
        if (rolloutLogProbs.Length != oldLogProbs.Length)
            throw new ArgumentException($"rollout correction needs rollout log-probs for all {oldLogProbs.Length} tokens, got {rolloutLogProbs.Length}", nameof(rolloutLogProbs));
        if (options.Threshold <= 0)
            throw new ArgumentException($"rollout correction threshold must be positive, got {options.Threshold}", nameof(options));

        var c = options.Threshold;
        double sum = 0, count = 0, above = 0, max = double.NegativeInfinity, min = double.PositiveInfinity;
        for (var i = 0; i + 1 < sequenceOffsets.Length; i++)
        {
            int start = sequenceOffsets[i], end = sequenceOffsets[i + 1];
            double sequenceWeight = 0;
            if (options.Level == RolloutCorrectionLevel.Sequence)
            {
                double logSum = 0;
                for (var t = start; t < end; t++)
                    logSum += mask[t] * ((double)oldLogProbs[t] - rolloutLogProbs[t]);
                sequenceWeight = Math.Exp(Math.Clamp(logSum, -20, 20));
            }
            for (var t = start; t < end; t++)
            {
                if (mask[t] == 0)
                {
                    weights[t] = 0;
                    continue;
                }
                var w = options.Level == RolloutCorrectionLevel.Token
                    ? Math.Exp(Math.Clamp((double)oldLogProbs[t] - rolloutLogProbs[t], -20, 20))
                    : sequenceWeight;
                sum += w;
                count++;
                max = Math.Max(max, w);
                min = Math.Min(min, w);
                if (w > c)
                    above++;
                weights[t] = (float)(mask[t] * (options.Mode == RolloutCorrectionMode.Truncate ? Math.Min(w, c) : (w <= c ? w : 0)));
            }
        }
        return count == 0
            ? new RolloutCorrectionStats(0, 0, 0, 0)
            : new RolloutCorrectionStats(sum / count, max, min, above / count);
    }
}
