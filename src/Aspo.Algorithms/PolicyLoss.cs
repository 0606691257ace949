namespace Aspo.Algorithms;

/// <summary>
/// Every knob of every policy loss, with the defaults of the reference code. Each loss reads only its own;
/// <see cref="PolicyLosses.DefaultOptions"/> gives the per-loss defaults (e.g. dapo's clip-higher 0.28).
/// </summary>
public sealed record PolicyLossOptions
{
    /// <summary>ε_low: the lower clip is 1 − ε_low (verl <c>clip_ratio_low</c>).</summary>
    public double ClipLow { get; init; } = 0.2;

    /// <summary>ε_high: the upper clip is 1 + ε_high (verl <c>clip_ratio_high</c>).</summary>
    public double ClipHigh { get; init; } = 0.2;

    /// <summary>c, the dual-clip constant (verl <c>clip_ratio_c</c>, must be &gt; 1; ASPO's soft dual clip on both sides).</summary>
    public double DualClip { get; init; } = 3.0;

    /// <summary>ASPO: ε depends on the token's entropy within its sequence (reference code). False = the paper's single ε = <see cref="AspoLowEntropyClip"/>.</summary>
    public bool AspoEntropySplit { get; init; } = true;

    /// <summary>ASPO: ε for tokens at or below the per-sequence entropy quantile (and for all tokens when the split is off).</summary>
    public double AspoLowEntropyClip { get; init; } = 0.2;

    /// <summary>ASPO: ε for tokens above the per-sequence entropy quantile.</summary>
    public double AspoHighEntropyClip { get; init; } = 0.4;

    /// <summary>ASPO: the per-sequence entropy quantile that splits the tokens (linear interpolation, as torch.nanquantile).</summary>
    public double AspoEntropyQuantile { get; init; } = 0.8;

    /// <summary>forking_tokens: the share ρ of highest-entropy valid tokens trained on.</summary>
    public double EntropyTopRatio { get; init; } = 0.2;

    /// <summary>clip_cov: share of tokens to detach, and the covariance window (lb, ub).</summary>
    public double ClipCovRatio { get; init; } = 2e-4;
    public double ClipCovLowerBound { get; init; } = 1.0;
    public double ClipCovUpperBound { get; init; } = 5.0;

    /// <summary>kl_cov: share of top-covariance tokens penalised, and the penalty coefficient β (verl yaml default 0.1; the paper uses 1).</summary>
    public double KlCovRatio { get; init; } = 2e-4;
    public double KlCovCoefficient { get; init; } = 0.1;

    /// <summary>Seed of clip_cov's random token choice.</summary>
    public int Seed { get; init; } = 0;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Check(ClipLow >= 0, $"clip_low must be ≥ 0, got {ClipLow}");
        Check(ClipHigh >= 0, $"clip_high must be ≥ 0, got {ClipHigh}");
        Check(DualClip > 1, $"dual_clip must be > 1, got {DualClip}");
        Check(AspoLowEntropyClip >= 0 && AspoHighEntropyClip >= 0, "aspo clip ranges must be ≥ 0");
        Check(AspoEntropyQuantile is >= 0 and <= 1, $"aspo entropy quantile must be in [0, 1], got {AspoEntropyQuantile}");
        Check(EntropyTopRatio is > 0 and <= 1, $"entropy_top_ratio must be in (0, 1], got {EntropyTopRatio}");
        Check(ClipCovRatio is > 0 and <= 1, $"clip_cov_ratio must be in (0, 1], got {ClipCovRatio}");
        Check(ClipCovLowerBound < ClipCovUpperBound, $"clip_cov bounds must satisfy lb < ub, got {ClipCovLowerBound}, {ClipCovUpperBound}");
        Check(KlCovRatio is > 0 and <= 1, $"kl_cov_ratio must be in (0, 1], got {KlCovRatio}");
    }
}

/// <summary>
/// A policy loss: for each token, its loss L_t and the gradient coefficient g_t = ∂L_t/∂ℓ_t, before aggregation.
/// The <see cref="PolicyObjective"/> applies rollout correction, aggregation weights and the KL term around it.
/// </summary>
public interface IPolicyLoss
{
    string Name { get; }
    PolicyLossOptions Options { get; }

    /// <summary>Whether <see cref="TokenBatch.Entropies"/> must be given.</summary>
    bool NeedsEntropies => false;

    /// <summary>The tokens the loss is computed on: <paramref name="mask"/> starts as the batch mask, which most
    /// losses keep; forking_tokens keeps only the top-entropy ones.</summary>
    void SelectTokens(in TokenBatch batch, Span<float> mask) { }

    /// <summary>
    /// Fills, for every token, ratio[t] = π_θ/π_old as this loss computes it, loss[t] = L_t and grad[t] = ∂L_t/∂ℓ_t
    /// (both 0 where <paramref name="mask"/> is 0), and adds its clip counts to <paramref name="counters"/>.
    /// </summary>
    void TokenTerms(in TokenBatch batch, ReadOnlySpan<float> mask, Span<float> ratio, Span<float> loss, Span<float> grad, LossCounters counters);
}

/// <summary>Counts that become the loss's metrics (fractions over the selected tokens, or over the tokens of one advantage sign).</summary>
public sealed class LossCounters
{
    private readonly Dictionary<string, (double Numerator, double Denominator)> _fractions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _values = new(StringComparer.Ordinal);

    /// <summary>Adds to a metric that is a fraction numerator/denominator.</summary>
    public void AddFraction(string metric, double numerator, double denominator)
    {
        var (n, d) = _fractions.GetValueOrDefault(metric);
        _fractions[metric] = (n + numerator, d + denominator);
    }

    /// <summary>Sets a metric to a value directly.</summary>
    public void Set(string metric, double value) => _values[metric] = value;

    internal void CopyTo(IDictionary<string, double> metrics)
    {
        foreach (var (name, (n, d)) in _fractions)
            metrics[name] = d > 0 ? n / d : 0;
        foreach (var (name, v) in _values)
            metrics[name] = v;
    }
}

/// <summary>Shared per-token helpers of the losses.</summary>
internal static class LossKernels
{
    public const float RatioLogClamp = 20f;

    /// <summary>ratio[t] = exp(clamp(ℓ_t − ℓ_old_t, ±20)) (or unclamped). MathF.Exp, not TensorPrimitives.Exp:
    /// the vectorised exp is 1 ulp off at 0 (exp(0) = 1.0000001), and on-policy steps need r = 1 exactly.</summary>
    public static void Ratios(ReadOnlySpan<float> logProbs, ReadOnlySpan<float> oldLogProbs, bool clamp, Span<float> ratio)
    {
        for (var t = 0; t < ratio.Length; t++)
        {
            var delta = logProbs[t] - oldLogProbs[t];
            ratio[t] = MathF.Exp(clamp ? Math.Clamp(delta, -RatioLogClamp, RatioLogClamp) : delta);
        }
    }

    /// <summary>Whether ℓ − ℓ_old is strictly inside ±20, i.e. the ratio still depends on ℓ.</summary>
    public static bool InsideClamp(float logProb, float oldLogProb)
    {
        var delta = logProb - oldLogProb;
        return delta > -RatioLogClamp && delta < RatioLogClamp;
    }
}
