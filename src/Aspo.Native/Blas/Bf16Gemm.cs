using System.Runtime.InteropServices;

namespace Aspo.Native.Blas;

/// <summary>
/// fp32 GEMM calls answered in bf16, autocast style: both operands are rounded to bf16 (nearest, ties to even) and
/// multiplied by <see cref="IBf16Gemm.GemmBf16"/> with fp32 accumulation and fp32 output, so C and everything after it
/// stay fp32. Operands that lie inside the registered weight slab are read from its bf16 mirror (rounded once per
/// weight change, <see cref="WeightsChanged"/>), the rest (activations, gradients) are rounded per call into scratch
/// buffers. Not thread-safe: one caller at a time (the learner's GEMM calls are sequential).
/// </summary>
public sealed unsafe class Bf16Gemm : IGemm, IDisposable
{
    private readonly IBf16Gemm _inner;
    private readonly float[] _weights;
    private GCHandle _pin;               // the slab must not move: operands are matched by address
    private readonly BFloat16[] _mirror; // [weights.Length] bf16 copy of the slab
    private bool _stale = true;
    private BFloat16[] _scratchA = [], _scratchB = [];

    /// <param name="inner">the bf16 GEMM (oneDNN, or the reference)</param>
    /// <param name="weights">the parameter slab; call <see cref="WeightsChanged"/> after every update of it</param>
    public Bf16Gemm(IBf16Gemm inner, float[] weights)
    {
        _inner = inner;
        _weights = weights;
        _pin = GCHandle.Alloc(weights, GCHandleType.Pinned);
        _mirror = new BFloat16[weights.Length];
    }

    public string Name => _inner.Name + "-bf16";
    public string Description => _inner.Description + ", bf16 operands with fp32 accumulation";

    /// <summary>The weights were updated: the mirror is rounded again before the next product that reads them.</summary>
    public void WeightsChanged() => _stale = true;

    public void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, float beta, Span<float> c, int ldc)
    {
        if (GemmArguments.ValidateAndFinishEmpty(transA, transB, m, n, k, a.Length, lda, b.Length, ldb, beta, c, ldc))
            return;
        _inner.GemmBf16(transA, transB, m, n, k, alpha, Operand(a, ref _scratchA), lda, Operand(b, ref _scratchB), ldb, beta, c, ldc);
    }

    private ReadOnlySpan<BFloat16> Operand(ReadOnlySpan<float> x, ref BFloat16[] scratch)
    {
        var start = (float*)_pin.AddrOfPinnedObject();
        fixed (float* p = x)
        {
            if (p >= start && p + x.Length <= start + _weights.LongLength)
            {
                if (_stale)
                    RoundWeights();
                return _mirror.AsSpan((int)(p - start), x.Length);
            }
        }
        if (scratch.Length < x.Length)
            scratch = new BFloat16[x.Length];
        BFloat16.Convert(x, scratch);
        return scratch.AsSpan(0, x.Length);
    }

    private void RoundWeights()
    {
        var half = _weights.Length / 2;
        Parallel.Invoke(
            () => BFloat16.Convert(_weights.AsSpan(0, half), _mirror.AsSpan(0, half)),
            () => BFloat16.Convert(_weights.AsSpan(half), _mirror.AsSpan(half)));
        _stale = false;
    }

    public void Dispose()
    {
        if (_pin.IsAllocated)
            _pin.Free();
    }
}
