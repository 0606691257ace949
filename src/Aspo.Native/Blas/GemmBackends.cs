namespace Aspo.Native.Blas;

/// <summary>The GEMM backends by name. <c>ASPO_GEMM</c> picks the default; unset, it is oneDNN, which measured about
/// 2× OpenBLAS fp32 on the project machine (README, GEMM benchmark).</summary>
public static class GemmBackends
{
    public const string EnvironmentVariable = "ASPO_GEMM";

    public static IReadOnlyList<string> Names { get; } = ["openblas", "onednn", "reference"];

    /// <param name="threads">threads per GEMM call; 0 = the library's default (every core). OpenBLAS's setting is process-wide.</param>
    /// <exception cref="ArgumentException">unknown name; the message lists the valid ones</exception>
    public static IGemm Create(string name, int threads = 0) => name switch
    {
        "openblas" => threads > 0 ? new OpenBlasGemm { Threads = threads } : new OpenBlasGemm(),
        "onednn" => new OneDnnGemm(threads),
        "reference" => new ReferenceGemm(),
        _ => throw new ArgumentException($"unknown GEMM backend '{name}'; valid backends: {string.Join(", ", Names)}", nameof(name)),
    };

    public const string DefaultName = "onednn";

    /// <summary>The backend named by <c>ASPO_GEMM</c>, or <see cref="DefaultName"/>.</summary>
    public static IGemm CreateDefault(int threads = 0)
    {
        var name = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return Create(string.IsNullOrWhiteSpace(name) ? DefaultName : name.Trim(), threads);
    }
}
