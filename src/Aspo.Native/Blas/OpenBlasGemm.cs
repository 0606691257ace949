namespace Aspo.Native.Blas;

/// <summary>GEMM through OpenBLAS <c>cblas_sgemm</c> (Debian libopenblas0-pthread).</summary>
public sealed unsafe class OpenBlasGemm : IGemm
{
    public string Name => "openblas";

    public string Description => $"{Utf8.Read(BlasNative.openblas_get_config()).Trim()}, {Threads} threads";

    /// <summary>Threads OpenBLAS uses for one call (process-wide setting).</summary>
    public int Threads
    {
        get => BlasNative.openblas_get_num_threads();
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            BlasNative.openblas_set_num_threads(value);
        }
    }

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (GemmArguments.ValidateAndFinishEmpty(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, beta, c, ldc))
            return;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
            BlasNative.cblas_sgemm(BlasNative.CblasRowMajor,
                transA ? BlasNative.CblasTrans : BlasNative.CblasNoTrans,
                transB ? BlasNative.CblasTrans : BlasNative.CblasNoTrans,
                m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    }
}
