namespace Aspo.Model;

/// <summary>How a learner is built: backend, device ("cpu", "cuda", "cuda:1"), GEMM precision, threads (0 = every core) and AdamW settings.</summary>
public sealed record LearnerOptions
{
    public LearnerBackend Backend { get; init; } = LearnerBackend.Native;
    public string Device { get; init; } = "cpu";
    public LearnerPrecision Precision { get; init; } = LearnerPrecision.Fp32;
    public int Threads { get; init; }
    public AdamWOptions Optimizer { get; init; } = new();

    public static IReadOnlyList<string> BackendNames { get; } = ["native", "torch"];
    public static IReadOnlyList<string> PrecisionNames { get; } = ["fp32", "bf16"];

    public static LearnerBackend ParseBackend(string name) => name switch
    {
        "native" => LearnerBackend.Native,
        "torch" => LearnerBackend.Torch,
        _ => throw new ArgumentException($"unknown learner backend '{name}'; valid: {string.Join(", ", BackendNames)}"),
    };

    public static LearnerPrecision ParsePrecision(string name) => name switch
    {
        "fp32" => LearnerPrecision.Fp32,
        "bf16" => LearnerPrecision.Bf16,
        _ => throw new ArgumentException($"unknown learner dtype '{name}'; valid: {string.Join(", ", PrecisionNames)}"),
    };

    /// <summary>"cpu", "cuda" or "cuda:N"; anything else is refused with the accepted forms.</summary>
    public static bool IsValidDevice(string device) =>
        device is "cpu" or "cuda" || device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(device.AsSpan(5), out var n) && n >= 0;

    public override string ToString() => $"{BackendNames[(int)Backend]} {PrecisionNames[(int)Precision]} on {Device}";
}
