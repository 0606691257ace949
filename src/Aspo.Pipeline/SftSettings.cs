using Aspo.Data;
using Aspo.Data.Tokenization;
using Aspo.Model;

namespace Aspo.Pipeline;

/// <summary>How a supervised warm start trains.</summary>
public sealed record SftSettings
{
    public int Epochs { get; init; } = 1;
    /// <summary>Sequences per optimizer step.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Sequences per forward/backward.</summary>
    public int MicroBatch { get; init; } = 32;
    public double LearningRate { get; init; } = 1e-3;
    public int WarmupSteps { get; init; } = 20;
    public double WeightDecay { get; init; } = 0.0;
    public double GradClip { get; init; } = 1.0;
    public ulong Seed { get; init; } = 1;

    public void Validate()
    {
        if (Epochs < 1 || BatchSize < 1 || MicroBatch < 1 || BatchSize % MicroBatch != 0)
            throw new ArgumentException($"sft needs epochs ≥ 1 and a batch size that is a multiple of the micro-batch, got epochs {Epochs}, batch {BatchSize}, micro-batch {MicroBatch}");
        if (!(LearningRate > 0) || WarmupSteps < 0 || WeightDecay < 0 || GradClip < 0)
            throw new ArgumentException("sft needs lr > 0 and warmup, weight decay and grad clip ≥ 0");
    }
}
