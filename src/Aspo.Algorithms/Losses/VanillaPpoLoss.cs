namespace Aspo.Algorithms.Losses;

/// <summary>
/// verl's <c>vanilla</c> clipped surrogate with dual clip, for <c>ppo</c>, <c>grpo</c> and <c>dapo</c>:
/// r = exp(clamp(ℓ − ℓ_old, ±20)), L = max(−A·r, −A·clip(r, 1−ε_low, 1+ε_high)), and for A &lt; 0 L = min(L, −A·c).
/// g = −A·r inside the trust region and below c, else 0 (hard clips give zero gradient).
/// </summary>
public sealed class VanillaPpoLoss(string name, PolicyLossOptions options) : IPolicyLoss
{
    public string Name { get; } = name;
    public PolicyLossOptions Options { get; } = options;
    public void TokenTerms(in TokenBatch batch, ReadOnlySpan<float> mask, Span<float> ratio, Span<float> loss, Span<float> grad, LossCounters counters)
    {
        LossKernels.Ratios(batch.LogProbs, batch.OldLogProbs, clamp: true, ratio);
        float lower = (float)(1 - Options.ClipLow), upper = (float)(1 + Options.ClipHigh), c = (float)Options.DualClip;
        double tokens = 0, clipped = 0, dualClipped = 0;
        for (var t = 0; t < ratio.Length; t++)
        {
            if (mask[t] == 0)
            {
                loss[t] = grad[t] = 0;
                continue;
            }
            float a = batch.Advantages[t], r = ratio[t];
            float l1 = -a * r, l2 = -a * Math.Clamp(r, lower, upper);
            var isClipped = l2 > l1;
            var value = Math.Max(l1, l2);
            var isDual = a < 0 && value > -a * c;
            loss[t] = isDual ? -a * c : value;
            grad[t] = isClipped || isDual || !LossKernels.InsideClamp(batch.LogProbs[t], batch.OldLogProbs[t]) ? 0 : -a * r;
            tokens += mask[t];
            if (isClipped) clipped += mask[t];
            if (isDual) dualClipped += mask[t];
        }
        counters.AddFraction(MetricNames.PgClipFrac, clipped, tokens);
        counters.AddFraction(MetricNames.PgClipFracLower, dualClipped, tokens);
    }
}
