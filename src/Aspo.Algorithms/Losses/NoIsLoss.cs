namespace Aspo.Algorithms.Losses;

/// <summary>
/// The ASPO paper's "no IS" ablation: all IS weights fixed to 1. <c>no_is</c>: L = −A·ℓ, g = −A (verl <c>gpg</c>).
/// <c>no_is_masked</c>: L = −A·M·ℓ with M the PPO trust-region mask (0 when A &gt; 0 and r &gt; 1+ε_high, or A &lt; 0 and r &lt; 1−ε_low).
/// </summary>
public sealed class NoIsLoss(bool masked, PolicyLossOptions options) : IPolicyLoss
{
    public string Name => masked ? "no_is_masked" : "no_is";
    public PolicyLossOptions Options { get; } = options;
    public void TokenTerms(in TokenBatch batch, ReadOnlySpan<float> mask, Span<float> ratio, Span<float> loss, Span<float> grad, LossCounters counters)
    {
        LossKernels.Ratios(batch.LogProbs, batch.OldLogProbs, clamp: true, ratio); // for the mask and the IS metrics
        var (lower, upper) = LossKernels.ClipRange(Options);
        double tokens = 0, clipped = 0;
        for (var t = 0; t < ratio.Length; t++)
        {
            if (!LossKernels.Counts(mask, t, loss, grad))
                continue;
            float a = batch.Advantages[t], r = ratio[t];
            var keep = !masked || !((a > 0 && r > upper) || (a < 0 && r < lower));
            loss[t] = keep ? -a * batch.LogProbs[t] : 0;
            grad[t] = keep ? -a : 0;
            tokens += mask[t];
            if (!keep) clipped += mask[t];
        }
        counters.AddFraction(MetricNames.PgClipFrac, clipped, tokens);
    }
}
