using Microsoft.ML.OnnxRuntime;

namespace Aspo.Onnx;

/// <summary>Where an ONNX Runtime session runs and how many threads it uses.</summary>
public sealed record OnnxSessionSettings
{
    /// <summary>Intra-op threads; 0 = ONNX Runtime's default (one per core).</summary>
    public int Threads { get; init; }
    /// <summary>false when the learner shares the cores: idle ONNX Runtime threads then sleep instead of spinning.</summary>
    public bool AllowSpinning { get; init; } = true;
    /// <summary>"cpu", "cuda" or "cuda:N" (CUDA needs the <c>-p:OnnxBackend=cuda</c> build).</summary>
    public string Device { get; init; } = "cpu";
}
