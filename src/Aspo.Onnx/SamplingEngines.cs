namespace Aspo.Onnx;

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
