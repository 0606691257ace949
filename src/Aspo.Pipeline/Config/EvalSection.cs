using Aspo.Algorithms;

namespace Aspo.Pipeline.Config;

/// <summary>eval: suites evaluated on the exported policy every k iterations (0 = never) and after the last one.</summary>
public sealed record EvalSection
{
    public IReadOnlyList<string> Suites { get; init; } = [];
    public int Every { get; init; }
    /// <summary>Overrides the suites' samples per prompt (0 = the suite's own).</summary>
    public int SamplesPerPrompt { get; init; }
    /// <summary>First N prompts of each suite dataset (0 = all).</summary>
    public int Limit { get; init; }
    /// <summary>The sampling engine: "aspo" (ours) or "genai" (ONNX Runtime GenAI 0.18).</summary>
    public string Engine { get; init; } = "aspo";
}
