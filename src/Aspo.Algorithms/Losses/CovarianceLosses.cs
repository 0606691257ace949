namespace Aspo.Algorithms.Losses;

/// <summary>Cov_t = (ℓ_t − mean ℓ)·(A_t − mean A) over the selected tokens (ℓ detached): the token's contribution
/// to the entropy change (Cui et al. 2025, "The Entropy Mechanism of RL for Reasoning LMs").</summary>
internal static class TokenCovariance
{
    public static void Compute(in TokenBatch batch, ReadOnlySpan<float> mask, Span<double> covariance, out int validTokens)
    {
        double sumL = 0, sumA = 0, n = 0;
        for (var t = 0; t < mask.Length; t++)
            if (mask[t] != 0)
            {
                sumL += batch.LogProbs[t];
                sumA += batch.Advantages[t];
                n++;
            }
        validTokens = (int)n;
        double meanL = n > 0 ? sumL / n : 0, meanA = n > 0 ? sumA / n : 0;
        for (var t = 0; t < mask.Length; t++)
            covariance[t] = mask[t] != 0 ? (batch.LogProbs[t] - meanL) * (batch.Advantages[t] - meanA) : double.NaN;
    }
}

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

/// <summary>
/// Training only on "forking" tokens (Wang et al. 2025, "Beyond the 80/20 Rule"): the DAPO loss on the
/// k = max(1, ⌈ρ·N⌉) highest-entropy valid tokens of the batch; the rest get no gradient and do not count in the
/// aggregation's denominator.
/// </summary>
public sealed class ForkingTokensLoss(PolicyLossOptions options) : IPolicyLoss
{
    private readonly VanillaPpoLoss _inner = new("forking_tokens", options);

    public string Name => "forking_tokens";
    public PolicyLossOptions Options { get; } = options;
    public bool NeedsEntropies => true;

    public void SelectTokens(in TokenBatch batch, Span<float> mask)
    {
        var valid = new List<int>();
        for (var t = 0; t < mask.Length; t++)
            if (mask[t] != 0)
                valid.Add(t);
        var k = Math.Max(1, (int)Math.Ceiling(Options.EntropyTopRatio * valid.Count));
        var ranked = new (int Token, float Entropy)[valid.Count];
        for (var i = 0; i < valid.Count; i++)
            ranked[i] = (valid[i], batch.Entropies[valid[i]]);
        var keep = ranked.OrderByDescending(x => x.Entropy).Take(k).Select(x => x.Token).ToHashSet();
        foreach (var t in valid)
            if (!keep.Contains(t))
                mask[t] = 0;
    }

    public void TokenTerms(in TokenBatch batch, ReadOnlySpan<float> mask, Span<float> ratio, Span<float> loss, Span<float> grad, LossCounters counters) =>
        _inner.TokenTerms(batch, mask, ratio, loss, grad, counters);
}
