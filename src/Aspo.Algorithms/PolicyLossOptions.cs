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
