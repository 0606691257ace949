namespace Aspo.Onnx;

/// <summary>
/// Something that completes prompts: our <see cref="Generator"/> (the rollout engine: per-sample seeds, old log-probs,
/// entropies, stop strings, continuous batching) or <see cref="GenAiEngine"/> (ONNX Runtime GenAI, for eval and
/// generate). Results come back in request order.
/// </summary>
public interface ISamplingEngine
{
    /// <summary>"aspo" or "genai".</summary>
    string Name { get; }

    /// <summary>Progress after each decode step: (requests finished, tokens generated so far).</summary>
    Action<int, long>? OnProgress { get; set; }

    IReadOnlyList<GenerationResult> Generate(IReadOnlyList<GenerationRequest> requests, SamplingParams sampling);
}
