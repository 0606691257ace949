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

/// <summary>The engines by name.</summary>
public static class SamplingEngines
{
    public const string Aspo = "aspo";
    public const string GenAi = "genai";
    public static IReadOnlyList<string> Names { get; } = [Aspo, GenAi];

    /// <summary>Throws one clear error for a name that is not an engine.</summary>
    public static string Check(string name, string option) =>
        Names.Contains(name) ? name : throw new ArgumentException($"{option} '{name}': expected one of {string.Join(", ", Names)}");
}
