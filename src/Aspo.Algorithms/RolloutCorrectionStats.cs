namespace Aspo.Algorithms;

/// <summary>Statistics of the raw weights over valid tokens (verl <c>rollout_corr/rollout_is_*</c>).</summary>
public readonly record struct RolloutCorrectionStats(double Mean, double Max, double Min, double FractionAboveThreshold);
