using Aspo.Native;
using Aspo.Native.Blas;
using BenchmarkDotNet.Attributes;

namespace Aspo.Bench;

/// <summary>
/// GEMM throughput of each backend, row-major C[m×n] = A[m×k]·B[k×n], at the two shapes of the issue:
/// 1024×1024×1024 and 4096×1024×256 (m×n×k). OpenBLAS fp32 is the baseline of the ratio column.
/// </summary>
[Config(typeof(BenchConfig))]
public class GemmBenchmarks : GemmProblem
{
    private BFloat16[] _a16 = [], _b16 = [];
    private readonly OpenBlasGemm _openBlas = new();
    private readonly OneDnnGemm _oneDnn = new();

    [GlobalSetup]
    public void Setup()
    {
        MakeProblem();
        _a16 = _a.Select(x => (BFloat16)x).ToArray();
        _b16 = _b.Select(x => (BFloat16)x).ToArray();
    }

    [Benchmark(Baseline = true, Description = "openblas fp32")]
    public void OpenBlasFp32() => _openBlas.Sgemm(false, false, _m, _n, _k, 1f, _a, _k, _b, _n, 0f, _c, _n);

    [Benchmark(Description = "onednn fp32")]
    public void OneDnnFp32() => _oneDnn.Sgemm(false, false, _m, _n, _k, 1f, _a, _k, _b, _n, 0f, _c, _n);

    [Benchmark(Description = "onednn bf16")]
    public void OneDnnBf16() => _oneDnn.GemmBf16(false, false, _m, _n, _k, 1f, _a16, _k, _b16, _n, 0f, _c, _n);
}

/// <summary>The managed reference GEMM at the same shapes: seconds per call, so fewer iterations.</summary>
[Config(typeof(SlowBenchConfig))]
public class ReferenceGemmBenchmarks : GemmProblem
{
    private readonly ReferenceGemm _reference = new();

    [GlobalSetup]
    public void Setup() => MakeProblem();

    [Benchmark(Description = "reference fp32")]
    public void ReferenceFp32() => _reference.Sgemm(false, false, _m, _n, _k, 1f, _a, _k, _b, _n, 0f, _c, _n);
}

/// <summary>The shapes and the random A, B (uniform in ±0.5, fixed seed) both GEMM suites multiply.</summary>
public abstract class GemmProblem
{
    [Params("1024x1024x1024", "4096x1024x256")]
    public string Shape { get; set; } = "";

    protected int _m, _n, _k;
    protected float[] _a = [], _b = [], _c = [];

    protected void MakeProblem()
    {
        (_m, _n, _k) = BenchShapes.Parse(Shape);
        var rng = new Random(1);
        _a = Enumerable.Range(0, _m * _k).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        _b = Enumerable.Range(0, _k * _n).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        _c = new float[_m * _n];
    }
}

internal static class BenchShapes
{
    /// <summary>"m x n x k" → (m, n, k).</summary>
    public static (int M, int N, int K) Parse(string shape)
    {
        var parts = shape.Split('x').Select(int.Parse).ToArray();
        return (parts[0], parts[1], parts[2]);
    }

    public static double Flops(string shape)
    {
        var (m, n, k) = Parse(shape);
        return 2.0 * m * n * k;
    }
}
