using Aspo.Algorithms;

namespace Aspo.Pipeline.Config;

/// <summary>rollout: how many prompts per iteration and how they are sampled (training defaults: T = 1, top-p 1, top-k off).</summary>
public sealed record RolloutSection
{
    public int PromptsPerIteration { get; init; } = 64;
    public int SamplesPerPrompt { get; init; } = 8;
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public int TopK { get; init; }
    public int MaxNewTokens { get; init; } = 256;
    /// <summary>Sequences decoding at once (continuous batching refills freed slots).</summary>
    public int BatchSize { get; init; } = 64;
    public bool Int4 { get; init; }
    /// <summary>Where ONNX Runtime samples: cpu, cuda or cuda:N (a CUDA build: -p:OnnxBackend=cuda).</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>host (logits to the host each step), graph (the exported sampling head) or auto (graph on a GPU).</summary>
    public string Sampler { get; init; } = Aspo.Onnx.SamplingHead.Auto;
    /// <summary>Whether decode steps sample inside the graph (the export then carries the sampling head).</summary>
    public bool UsesSamplingHead => Aspo.Onnx.SamplingHead.Enabled(Sampler, Device);
}
