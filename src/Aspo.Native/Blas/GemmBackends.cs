namespace Aspo.Native.Blas;

/// <summary>The GEMM backends by name. <c>ASPO_GEMM</c> picks the default; unset, it is oneDNN, which measured about
/// 2× OpenBLAS fp32 on the project machine (README, GEMM benchmark).</summary>
public static class GemmBackends
{
    public const string EnvironmentVariable = "ASPO_GEMM";

    public static IReadOnlyList<string> Names { get; } = ["openblas", "onednn", "reference"];

    /// <exception cref="ArgumentException">unknown name; the message lists the valid ones</exception>
    public static IGemm Create(string name) => name switch
    {
        "openblas" => new OpenBlasGemm(),
        "onednn" => new OneDnnGemm(),
        "reference" => new ReferenceGemm(),
        _ => throw new ArgumentException($"unknown GEMM backend '{name}'; valid backends: {string.Join(", ", Names)}", nameof(name)),
    };

    public const string DefaultName = "onednn";

    /// <summary>The backend named by <c>ASPO_GEMM</c>, or <see cref="DefaultName"/>.</summary>
    public static IGemm CreateDefault()
    {
        var name = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return Create(string.IsNullOrWhiteSpace(name) ? DefaultName : name.Trim());
    }
}
