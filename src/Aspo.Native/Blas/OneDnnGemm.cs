namespace Aspo.Native.Blas;

/// <summary>GEMM through oneDNN <c>dnnl_sgemm</c> and <c>dnnl_gemm_bf16bf16f32</c> (Debian libdnnl2), which pick
/// AVX-512 / AMX kernels at run time. oneDNN's GEMM functions are row-major. Every call blocks signals on the
/// calling thread (its OpenMP workers inherit the mask): see <see cref="ThreadSignals"/> for the oneDNN bug this avoids.</summary>
public sealed unsafe class OneDnnGemm : IBf16Gemm
{
    private readonly int _threads;

    /// <param name="threads">OpenMP threads per call; 0 = the OpenMP default (every core, or <c>OMP_NUM_THREADS</c>)</param>
    public OneDnnGemm(int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        _threads = threads;
    }

    public string Name => "onednn";

    /// <summary>OpenMP threads per call (0 = the OpenMP default).</summary>
    public int Threads => _threads;

    public string Description
    {
        get
        {
            var v = BlasNative.dnnl_version();
            var runtime = v->CpuRuntime switch { 1 => "sequential", 2 => "OpenMP", 4 => "TBB", 8 => "threadpool", _ => $"runtime {v->CpuRuntime}" };
            return $"oneDNN {v->Major}.{v->Minor}.{v->Patch} (git {Utf8.Read(v->Hash)}, {runtime})";
        }
    }

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (GemmArguments.ValidateAndFinishEmpty(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, beta, c, ldc))
            return; // oneDNN answers invalid_arguments for k = 0
        int status;
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        using (ThreadSignals.BlockAll()) // see ThreadSignals: a signal inside oneDNN's JIT kernels corrupts the heap
        {
            SetThreads();
            status = BlasNative.dnnl_sgemm(Trans(transA), Trans(transB), m, n, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
        }
        Check(status, "dnnl_sgemm", m, n, k);
    }

    public void GemmBf16(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<BFloat16> a, int lda, ReadOnlySpan<BFloat16> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (GemmArguments.ValidateAndFinishEmpty(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, beta, c, ldc))
            return; // oneDNN answers invalid_arguments for k = 0
        int status;
        fixed (BFloat16* pa = a)
        fixed (BFloat16* pb = b)
        fixed (float* pc = c)
        using (ThreadSignals.BlockAll())
        {
            SetThreads();
            status = BlasNative.dnnl_gemm_bf16bf16f32(Trans(transA), Trans(transB), m, n, k, alpha, (ushort*)pa, lda, (ushort*)pb, ldb, beta, pc, ldc);
        }
        Check(status, "dnnl_gemm_bf16bf16f32", m, n, k);
    }

    // the OpenMP setting is per calling thread, so it is applied on every call (a thread-local store, no syscall)
    private void SetThreads()
    {
        if (_threads > 0)
            BlasNative.omp_set_num_threads(_threads);
    }

    private static byte Trans(bool t) => t ? (byte)'T' : (byte)'N';

    private static void Check(int status, string function, int m, int n, int k)
    {
        if (status == 0)
            return;
        var name = status switch
        {
            1 => "out_of_memory", 2 => "invalid_arguments", 3 => "unimplemented", 4 => "last_impl_reached",
            5 => "runtime_error", 6 => "not_required", _ => $"status {status}",
        };
        throw new GemmException($"{function} failed for m={m}, n={n}, k={k}: {name}");
    }
}
