namespace Aspo.Algorithms;

/// <summary>Rollout correction settings. Default off (verl's default: metrics only).</summary>
public sealed record RolloutCorrectionOptions
{
    public RolloutCorrectionLevel Level { get; init; } = RolloutCorrectionLevel.Off;
    public RolloutCorrectionMode Mode { get; init; } = RolloutCorrectionMode.Truncate;

    /// <summary>C, the cap on π_old/π_roll. verl's example uses 2.0.</summary>
    public double Threshold { get; init; } = 2.0;
}
