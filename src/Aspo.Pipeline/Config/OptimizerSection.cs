using Aspo.Algorithms;

namespace Aspo.Pipeline.Config;

/// <summary>optimizer: AdamW, gradient clipping and the learning-rate schedule.</summary>
public sealed record OptimizerSection
{
    public double LearningRate { get; init; } = 1e-6;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    public double WeightDecay { get; init; } = 0.01;
    public double GradClip { get; init; } = 1.0;
    public string Schedule { get; init; } = "constant";
    public int WarmupSteps { get; init; }
}
