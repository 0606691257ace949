namespace Aspo.Native.Blas;

/// <summary>
/// Single-precision matrix multiply, row-major:
/// <c>C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C</c>, where op(X) is X or Xᵀ.
/// A is stored m×k (k×m when transposed) with row stride <c>lda</c>; likewise B and C.
/// This is the seam where a GPU backend would plug into the learner.
/// </summary>
public interface IGemm
{
    /// <summary>Short registry name: "openblas", "onednn", "reference".</summary>
    string Name { get; }

    /// <summary>Library and version in use, for <c>aspo version</c>.</summary>
    string Description { get; }

    void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc);
}
