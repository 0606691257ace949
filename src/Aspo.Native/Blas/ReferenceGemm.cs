namespace Aspo.Native.Blas;

/// <summary>
/// The plain, obviously-correct GEMM: one dot product per output element, accumulated in double.
/// It is the reference the native backends are tested against, and a fallback needing no native library.
/// Slow (about 1 GFLOP/s); never the default.
/// </summary>
public sealed class ReferenceGemm : IBf16Gemm
{
    public string Name => "reference";

    public string Description => "managed reference (double accumulation, single thread)";

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        GemmArguments.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
            {
                double sum = 0;
                for (var p = 0; p < k; p++)
                    sum += (double)a[transA ? p * lda + i : i * lda + p] * b[transB ? j * ldb + p : p * ldb + j];
                Store(c, i * ldc + j, alpha, sum, beta);
            }
    }

    public void GemmBf16(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<BFloat16> a, int lda, ReadOnlySpan<BFloat16> b, int ldb, float beta, Span<float> c, int ldc)
    {
        GemmArguments.Validate(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, c.Length, ldc);
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
            {
                double sum = 0;
                for (var p = 0; p < k; p++)
                    sum += (double)(float)a[transA ? p * lda + i : i * lda + p] * (float)b[transB ? j * ldb + p : p * ldb + j];
                Store(c, i * ldc + j, alpha, sum, beta);
            }
    }

    // BLAS semantics: with beta = 0, C is not read (it may hold NaN)
    private static void Store(Span<float> c, int index, float alpha, double sum, float beta) =>
        c[index] = beta == 0 ? (float)(alpha * sum) : (float)(alpha * sum + (double)beta * c[index]);
}
