namespace Aspo.Algorithms.Losses;

/// <summary>
/// Clip-Cov (verl <c>clip_cov</c>): the PPO clipped surrogate without ratio clamp or dual clip, where
/// max(1, ⌊ratio·N⌋) randomly chosen unclipped tokens with lb &lt; Cov_t &lt; ub are detached (loss and gradient 0).
/// </summary>
public sealed class ClipCovLoss(PolicyLossOptions options) : IPolicyLoss
{
    public string Name => "clip_cov";
    public PolicyLossOptions Options { get; } = options;
    public void TokenTerms(in TokenBatch batch, ReadOnlySpan<float> mask, Span<float> ratio, Span<float> loss, Span<float> grad, LossCounters counters)
    {
        LossKernels.Ratios(batch.LogProbs, batch.OldLogProbs, clamp: false, ratio);
        float lower = (float)(1 - Options.ClipLow), upper = (float)(1 + Options.ClipHigh);
        var covariance = new double[mask.Length];
        TokenCovariance.Compute(batch, mask, covariance, out var valid);

        var candidates = new List<int>();
        for (var t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0)
                continue;
            float a = batch.Advantages[t], r = ratio[t];
            var clipped = -a * Math.Clamp(r, lower, upper) > -a * r;
            if (!clipped && covariance[t] > Options.ClipCovLowerBound && covariance[t] < Options.ClipCovUpperBound)
                candidates.Add(t);
        }
        var take = Math.Min(Math.Max((int)Math.Floor(Options.ClipCovRatio * valid), 1), candidates.Count);
        var detached = new HashSet<int>();
        var rng = new Random(Options.Seed);
        for (var k = 0; k < take; k++) // partial Fisher–Yates: a uniform sample without replacement
        {
            var j = rng.Next(k, candidates.Count);
            (candidates[k], candidates[j]) = (candidates[j], candidates[k]);
            detached.Add(candidates[k]);
        }

        double tokens = 0;
        for (var t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0 || detached.Contains(t))
            {
                loss[t] = grad[t] = 0;
                tokens += mask[t];
                continue;
            }
            float a = batch.Advantages[t], r = ratio[t];
            float l1 = -a * r, l2 = -a * Math.Clamp(r, lower, upper);
            loss[t] = Math.Max(l1, l2);
            grad[t] = l2 > l1 ? 0 : -a * r;
            tokens += mask[t];
        }
        counters.AddFraction(MetricNames.PgClipFrac, detached.Count, tokens);
    }
}
