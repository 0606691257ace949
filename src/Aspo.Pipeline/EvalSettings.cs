using Aspo.Data.Shards;
using Aspo.Data.Tokenization;
using Aspo.Onnx;
using Aspo.Rewards;

namespace Aspo.Pipeline;

/// <summary>How an evaluation samples: n answers per prompt (avg@n, pass@k for k ≤ n), the sampling and the seed.</summary>
public sealed record EvalSettings
{
    public int SamplesPerPrompt { get; init; } = 4;
    /// <summary>Reasoning-model evaluation defaults (temperature 0.6, top-p 0.95); greedy evaluation is temperature 0 with n = 1.</summary>
    public SamplingParams Sampling { get; init; } = new() { Temperature = 0.6f, TopP = 0.95f, MaxNewTokens = 1024 };
    public ulong Seed { get; init; } = 1;
    public int BatchSize { get; init; } = 64;
    /// <summary>The k of pass@k; null = 1, 2, 4, … and n.</summary>
    public IReadOnlyList<int>? Ks { get; init; }

    /// <summary>The k of pass@k in effect.</summary>
    public IReadOnlyList<int> PassAtKs => Ks ?? EvalMetrics.DefaultKs(SamplesPerPrompt);

    /// <summary>Checks every setting; callers run it before loading anything so bad settings cost nothing.</summary>
    public void Validate()
    {
        if (SamplesPerPrompt < 1)
            throw new ArgumentException($"samples per prompt must be at least 1, got {SamplesPerPrompt}");
        if (BatchSize < 1)
            throw new ArgumentException($"batch size must be at least 1, got {BatchSize}");
        Sampling.Validate();
        if (PassAtKs.Count == 0 || PassAtKs.Any(k => k < 1 || k > SamplesPerPrompt))
            throw new ArgumentException($"every k of pass@k must be in [1, n = {SamplesPerPrompt}], got {string.Join(", ", PassAtKs)}");
    }
}
