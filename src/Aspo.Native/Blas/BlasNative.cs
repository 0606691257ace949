using System.Runtime.InteropServices;

namespace Aspo.Native.Blas;

/// <summary>OpenBLAS (cblas.h, LP64: 32-bit integers) and oneDNN (dnnl.h, 64-bit dims, row-major GEMM) entry points.</summary>
internal static unsafe partial class BlasNative
{
    public const int CblasRowMajor = 101;
    public const int CblasNoTrans = 111;
    public const int CblasTrans = 112;

    [LibraryImport("openblas")]
    public static partial void cblas_sgemm(int layout, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [LibraryImport("openblas")] public static partial byte* openblas_get_config();
    [LibraryImport("openblas")] public static partial int openblas_get_num_threads();
    [LibraryImport("openblas")] public static partial void openblas_set_num_threads(int threads);

    /// <summary><c>dnnl_status_t dnnl_sgemm(char transa, char transb, dnnl_dim_t M, N, K, float alpha, const float *A, lda, const float *B, ldb, float beta, float *C, ldc)</c></summary>
    [LibraryImport("dnnl")]
    public static partial int dnnl_sgemm(byte transA, byte transB, long m, long n, long k,
        float alpha, float* a, long lda, float* b, long ldb, float beta, float* c, long ldc);

    [LibraryImport("dnnl")]
    public static partial int dnnl_gemm_bf16bf16f32(byte transA, byte transB, long m, long n, long k,
        float alpha, ushort* a, long lda, ushort* b, long ldb, float beta, float* c, long ldc);

    /// <summary><c>void omp_set_num_threads(int)</c>: the calling thread's OpenMP team size, which oneDNN (OpenMP
    /// build) reads through <c>omp_get_max_threads()</c> on each call.</summary>
    [LibraryImport("gomp")] public static partial void omp_set_num_threads(int threads);

    /// <summary><c>const dnnl_version_t *dnnl_version(void)</c></summary>
    [LibraryImport("dnnl")] public static partial DnnlVersion* dnnl_version();

    [StructLayout(LayoutKind.Sequential)]
    public struct DnnlVersion
    {
        public int Major;
        public int Minor;
        public int Patch;
        public byte* Hash;
        public uint CpuRuntime;
        public uint GpuRuntime;
    }
}
