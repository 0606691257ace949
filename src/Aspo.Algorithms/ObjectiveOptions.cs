namespace Aspo.Algorithms;

/// <summary>Settings of the whole actor objective around a policy loss.</summary>
public sealed record ObjectiveOptions
{
    public AggregationMode Aggregation { get; init; } = AggregationMode.TokenMean;

    /// <summary>S for seq-mean-token-sum-norm; null = the padded width.</summary>
    public double? LossScaleFactor { get; init; }

    /// <summary>KL-to-reference estimator (k1, abs, k2, k3 and the "+" variants) and its coefficient; 0 = off.</summary>
    public string KlEstimator { get; init; } = "k3";
    public double KlCoefficient { get; init; }

    public RolloutCorrectionOptions RolloutCorrection { get; init; } = new();
}
