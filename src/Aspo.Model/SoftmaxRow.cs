using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace Aspo.Model;

/// <summary>
/// The one kernel of softmax(z/T) over a logits row: the rollout's sampler draws from its weights and records
/// log-prob and entropy from its sums, and the learner's vocabulary head computes the same log-prob and entropy (and
/// their gradient) from it — so equal logits give equal log-probs on both sides. <see cref="LogSoftmax.Exact"/> is
/// its plain double-precision reference.
/// </summary>
public static class SoftmaxRow
{
    /// <summary>softmax(z/T) of one row summarised: max z, 1/T, Σ e and log Σ e (fp64), and the entropy.</summary>
    public readonly record struct Normaliser(float Max, float InverseTemperature, double Sum, double LogSum, double Entropy)
    {
        /// <summary>log_softmax(z/T)[token].</summary>
        public float LogProb(ReadOnlySpan<float> z, int token) => (float)((z[token] - Max) * InverseTemperature - LogSum);
    }

    /// <summary>One pass over row z [V]: e = exp((z − max)/T) into <paramref name="e"/> [V] and the normaliser.</summary>
    public static Normaliser Normalise(ReadOnlySpan<float> z, float inverseTemperature, Span<float> e)
    {
        var max = TensorPrimitives.Max(z);
        var (sum, weighted) = Weights(z, max, inverseTemperature, e);
        var logSum = Math.Log(sum);
        return new Normaliser(max, inverseTemperature, sum, logSum, logSum - weighted / sum);
    }

    /// <summary>
    /// e_j = exp((z_j − max)·invT) into <paramref name="e"/> (fp32, 16 lanes at a time on AVX-512), and in fp64 Σ e_j and
    /// Σ e_j·u_j (u_j = (z_j − max)·invT, the product in fp32): one pass over the row, the step a rollout pays per token
    /// for [rows × 151,936] logits and the learner per scored token.
    /// </summary>
    public static (double Sum, double Weighted) Weights(ReadOnlySpan<float> z, float max, float invT, Span<float> e)
    {
        if (!Vector512.IsHardwareAccelerated)
        {
            double s = 0, w = 0;
            for (var i = 0; i < z.Length; i++)
            {
                var u = (z[i] - max) * invT;
                var x = MathF.Exp(u);
                e[i] = x;
                s += x;
                w += x * u;
            }
            return (s, w);
        }
        Vector512<double> s0 = default, s1 = default, w0 = default, w1 = default;
        var vMax = Vector512.Create(max);
        var vInvT = Vector512.Create(invT);
        Span<float> tail = stackalloc float[16];
        for (var j = 0; j < z.Length; j += 16)
        {
            // the last partial block goes through the same vector exp (padding exp(−∞) = 0 adds nothing), so equal
            // logits always get equal weights — the sampling head's sort and ours then break ties alike
            var count = Math.Min(16, z.Length - j);
            Vector512<float> block;
            if (count == 16)
                block = Vector512.Create(z.Slice(j, 16));
            else
            {
                tail.Fill(float.NegativeInfinity);
                z.Slice(j, count).CopyTo(tail);
                block = Vector512.Create((ReadOnlySpan<float>)tail);
            }
            var u = (block - vMax) * vInvT;
            var x = Vector512.Exp(u);
            var xu = Vector512.ConditionalSelect(Vector512.Equals(x, Vector512<float>.Zero), Vector512<float>.Zero, x * u); // 0·(−∞) would be NaN
            if (count == 16)
                x.CopyTo(e.Slice(j, 16));
            else
            {
                x.CopyTo(tail);
                tail[..count].CopyTo(e.Slice(j, count));
            }
            var (lo, hi) = Vector512.Widen(x);
            s0 += lo;
            s1 += hi;
            var (wlo, whi) = Vector512.Widen(xu);
            w0 += wlo;
            w1 += whi;
        }
        return (Vector512.Sum(s0 + s1), Vector512.Sum(w0 + w1));
    }
}
