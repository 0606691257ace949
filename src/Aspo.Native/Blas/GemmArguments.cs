namespace Aspo.Native.Blas;

/// <summary>Argument checks shared by every backend, so a bad leading dimension or short buffer is an
/// <see cref="ArgumentException"/> naming the matrix, never a native out-of-bounds access.</summary>
public static class GemmArguments
{
    public static void Validate(bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, int cLength, int ldc)
    {
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentException($"GEMM sizes must be non-negative, got m={m}, n={n}, k={k}");
        CheckMatrix("A", transA ? k : m, transA ? m : k, aLength, lda, "lda");
        CheckMatrix("B", transB ? n : k, transB ? k : n, bLength, ldb, "ldb");
        CheckMatrix("C", m, n, cLength, ldc, "ldc");
    }

    /// <summary>
    /// Validates the arguments, then finishes the degenerate products itself: nothing to do when m or n is 0,
    /// and C = beta·C when k is 0 (C not read when beta is 0), which some libraries reject.
    /// Returns true when the call is complete and the native GEMM must not run.
    /// </summary>
    public static bool ValidateAndFinishEmpty(bool transA, bool transB, int m, int n, int k,
        int aLength, int lda, int bLength, int ldb, float beta, Span<float> c, int ldc)
    {
        Validate(transA, transB, m, n, k, aLength, lda, bLength, ldb, c.Length, ldc);
        if (m == 0 || n == 0)
            return true;
        if (k != 0)
            return false;
        for (var i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (beta == 0)
                row.Clear();
            else
                for (var j = 0; j < n; j++)
                    row[j] *= beta;
        }
        return true;
    }

    private static void CheckMatrix(string name, int rows, int cols, int length, int ld, string ldName)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentException($"{ldName}={ld} is smaller than the {cols} columns of stored {name} ({rows}×{cols})", ldName);
        var needed = rows == 0 || cols == 0 ? 0L : (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException($"{name} is stored {rows}×{cols} with {ldName}={ld} and needs {needed} elements, but its buffer has {length}", name);
    }
}
