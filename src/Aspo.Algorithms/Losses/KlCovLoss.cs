namespace Aspo.Algorithms.Losses;

/// <summary>
/// KL-Cov (verl <c>kl_cov</c>): L = −A·r for every token (no clamp, no clipping), plus β·|ℓ − ℓ_old| on the
/// max(1, ⌊ratio·N⌋) tokens with the largest Cov_t. g = −A·r (+ β·sign(ℓ − ℓ_old)). Reports ppo_kl = mean |ℓ − ℓ_old|.
/// </summary>
public sealed class KlCovLoss(PolicyLossOptions options) : IPolicyLoss
{
    public string Name => "kl_cov";
    public PolicyLossOptions Options { get; } = options;
    public void TokenTerms(in TokenBatch batch, ReadOnlySpan<float> mask, Span<float> ratio, Span<float> loss, Span<float> grad, LossCounters counters)
    {
        LossKernels.Ratios(batch.LogProbs, batch.OldLogProbs, clamp: false, ratio);
        var covariance = new double[mask.Length];
        TokenCovariance.Compute(batch, mask, covariance, out var valid);
        var validTokens = new List<int>(valid);
        for (var t = 0; t < mask.Length; t++)
            if (mask[t] != 0)
                validTokens.Add(t);
        var order = validTokens.OrderByDescending(t => covariance[t]).ToArray();
        var take = Math.Min(Math.Max((int)Math.Floor(valid * Options.KlCovRatio), 1), order.Length);
        var penalised = new HashSet<int>(order.Take(take));
        var beta = (float)Options.KlCovCoefficient;

        double tokens = 0, absKl = 0;
        for (var t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0)
            {
                loss[t] = grad[t] = 0;
                continue;
            }
            float a = batch.Advantages[t], r = ratio[t], delta = batch.LogProbs[t] - batch.OldLogProbs[t];
            loss[t] = -a * r;
            grad[t] = -a * r;
            if (penalised.Contains(t))
            {
                loss[t] += beta * MathF.Abs(delta);
                grad[t] += beta * MathF.Sign(delta);
            }
            tokens += mask[t];
            absKl += mask[t] * MathF.Abs(delta);
        }
        counters.Set(MetricNames.PpoKl, tokens > 0 ? absKl / tokens : 0);
        counters.AddFraction(MetricNames.PgClipFrac, penalised.Count, tokens);
    }
}
