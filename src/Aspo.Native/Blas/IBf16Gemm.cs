namespace Aspo.Native.Blas;

/// <summary>A backend that also multiplies bf16 inputs with fp32 accumulation and output.</summary>
public interface IBf16Gemm : IGemm
{
    /// <summary>As <see cref="IGemm.Sgemm"/> with bf16 A and B; products are accumulated in fp32.</summary>
    void GemmBf16(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<BFloat16> a, int lda, ReadOnlySpan<BFloat16> b, int ldb, float beta, Span<float> c, int ldc);
}
