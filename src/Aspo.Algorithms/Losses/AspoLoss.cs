namespace Aspo.Algorithms.Losses;

/// <summary>
/// ASPO (Asymmetric Importance Sampling Policy Optimization, arXiv 2510.06062) as the reference code
/// (Archer2.0 <c>compute_policy_loss_archer</c>) computes it, with r = exp(clamp(ℓ − ℓ_old, ±20)):
/// <list type="bullet">
/// <item>A &lt; 0: ρ = max(r, 1−ε); if ρ &gt; c, L = −A·c·ℓ (soft dual clip, g = −A·c), else L = −A·ρ (g = −A·r, 0 below 1−ε).</item>
/// <item>A ≥ 0: ρ = min(r, 1+ε); if 1/ρ &gt; c, L = −A·c·ℓ (g = −A·c), else L = −A/ρ with the flipped-weight gradient g = −A/r (0 above 1+ε).</item>
/// </list>
/// ε is 0.2 for tokens at or below their sequence's 80th entropy percentile and 0.4 above it (the code's
/// literals); <see cref="PolicyLossOptions.AspoEntropySplit"/> = false gives the paper's single ε.
/// </summary>
public sealed class AspoLoss(PolicyLossOptions options) : IPolicyLoss
{
    public string Name => "aspo";
    public PolicyLossOptions Options { get; } = options;
    public bool NeedsEntropies => Options.AspoEntropySplit;

    public void TokenTerms(in TokenBatch batch, ReadOnlySpan<float> mask, Span<float> ratio, Span<float> loss, Span<float> grad, LossCounters counters)
    {
        LossKernels.Ratios(batch.LogProbs, batch.OldLogProbs, clamp: true, ratio);
        var c = (float)Options.DualClip;
        float lowEps = (float)Options.AspoLowEntropyClip, highEps = (float)Options.AspoHighEntropyClip;
        double tokens = 0, upper = 0, lower = 0, negatives = 0, positives = 0, dualNegative = 0, dualPositive = 0;
        var offsets = batch.SequenceOffsets;
        for (var i = 0; i + 1 < offsets.Length; i++)
        {
            int start = offsets[i], end = offsets[i + 1];
            var threshold = Options.AspoEntropySplit
                ? EntropyQuantile(batch.Entropies[start..end], mask[start..end], Options.AspoEntropyQuantile)
                : double.PositiveInfinity;
            for (var t = start; t < end; t++)
            {
                if (mask[t] == 0)
                {
                    loss[t] = grad[t] = 0;
                    continue;
                }
                var eps = !Options.AspoEntropySplit || batch.Entropies[t] <= threshold ? lowEps : highEps;
                float a = batch.Advantages[t], r = ratio[t], logProb = batch.LogProbs[t];
                var inside = LossKernels.InsideClamp(logProb, batch.OldLogProbs[t]);
                tokens += mask[t];
                if (a < 0)
                {
                    negatives += mask[t];
                    var rho = Math.Max(r, 1 - eps);
                    if (r < rho) lower += mask[t];
                    if (rho > c)
                    {
                        loss[t] = -a * c * logProb;
                        grad[t] = -a * c;
                        dualNegative += mask[t];
                    }
                    else
                    {
                        loss[t] = -a * rho;
                        grad[t] = r > 1 - eps && inside ? -a * r : 0;
                    }
                }
                else
                {
                    if (a > 0) positives += mask[t];
                    var rho = Math.Min(r, 1 + eps);
                    if (r > rho) upper += mask[t];
                    if (1 / rho > c)
                    {
                        loss[t] = -a * c * logProb;
                        grad[t] = -a * c;
                        if (a > 0) dualPositive += mask[t];
                    }
                    else
                    {
                        loss[t] = -a / rho;
                        grad[t] = r < 1 + eps && inside ? -a / r : 0;
                    }
                }
            }
        }
        counters.AddFraction(MetricNames.PgClipFracUpper, upper, tokens);
        counters.AddFraction(MetricNames.PgClipFracLower, lower, tokens);
        counters.AddFraction(MetricNames.PgClipFrac, upper + lower, tokens);
        counters.AddFraction(MetricNames.NegativePgClipFracDual, dualNegative, negatives);
        counters.AddFraction(MetricNames.PositivePgClipFracDual, dualPositive, positives);
    }

    /// <summary>The q-quantile of the valid tokens' entropies, linear interpolation between order statistics
    /// (torch.nanquantile with padding as NaN); +∞ when the sequence has no valid token.</summary>
    internal static double EntropyQuantile(ReadOnlySpan<float> entropies, ReadOnlySpan<float> mask, double q)
    {
        var count = 0;
        foreach (var m in mask)
            if (m != 0) count++;
        if (count == 0)
            return double.PositiveInfinity;
        var values = count <= 512 ? stackalloc float[count] : new float[count];
        var k = 0;
        for (var t = 0; t < mask.Length; t++)
            if (mask[t] != 0)
                values[k++] = entropies[t];
        values.Sort();
        var rank = q * (count - 1);
        var below = (int)Math.Floor(rank);
        var above = Math.Min(below + 1, count - 1);
        var weight = rank - below;
        return values[below] + weight * ((double)values[above] - values[below]);
    }
}
