namespace Aspo.Algorithms.Losses;

/// <summary>
/// CISPO (MiniMax-M1): L = −sg(clip(r, 1−ε_low, 1+ε_high))·A·ℓ, so g = −A·clip(r, …) — the weight is capped,
/// the gradient never dropped. r = exp(clamp(ℓ − ℓ_old, ±20)). Default ε_low = 1 (no lower bound, as the paper).
/// </summary>
public sealed class CispoLoss(PolicyLossOptions options) : IPolicyLoss
{
    public string Name => "cispo";
    public PolicyLossOptions Options { get; } = options;
    public void TokenTerms(in TokenBatch batch, ReadOnlySpan<float> mask, Span<float> ratio, Span<float> loss, Span<float> grad, LossCounters counters)
    {
        LossKernels.Ratios(batch.LogProbs, batch.OldLogProbs, clamp: true, ratio);
        var (lower, upper) = LossKernels.ClipRange(Options);
        double tokens = 0, clipped = 0;
        for (var t = 0; t < ratio.Length; t++)
        {
            if (!LossKernels.Counts(mask, t, loss, grad))
                continue;
            float a = batch.Advantages[t], weight = Math.Clamp(ratio[t], lower, upper);
            loss[t] = -weight * a * batch.LogProbs[t];
            grad[t] = -a * weight;
            tokens += mask[t];
            if (weight != ratio[t]) clipped += mask[t];
        }
        counters.AddFraction(MetricNames.PgClipFrac, clipped, tokens);
    }
}
