using Aspo.Data;
using Aspo.Data.Shards;
using Aspo.Data.Tokenization;
using Aspo.Onnx;

namespace Aspo.Pipeline;

/// <summary>What one rollout iteration samples and how it labels the rows.</summary>
public sealed record RolloutSettings
{
    public required string RunId { get; init; }
    public required int Iteration { get; init; }
    public required int PolicyVersion { get; init; }
    public required ulong MasterSeed { get; init; }
    public int SamplesPerPrompt { get; init; } = 8;
    /// <summary>Sequences decoding at once; freed slots are refilled with waiting samples (continuous batching).</summary>
    public int BatchSize { get; init; } = 64;
    public SamplingParams Sampling { get; init; } = new();
    /// <summary>Decode steps sample in the graph (the export's sampling head) instead of on the host.</summary>
    public bool SamplingHead { get; init; }
}
