using System.Numerics.Tensors;

namespace Aspo.Model;

/// <summary>
/// The decoder's elementwise kernels, forward and backward, over flat row-major buffers. Shapes in the names:
/// N tokens, C features per row. Plain loops; the GEMMs that dominate the cost go through IGemm.
/// </summary>
internal static class Kernels
{
    /// <summary>y[n,:] = w ⊙ x[n,:] · rstd[n], rstd[n] = 1/sqrt(mean(x[n,:]²) + eps). x, y [N, C]; w [C]; rstd [N]. Vectorised.</summary>
    public static void RmsNormForward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float eps, Span<float> y, Span<float> rstd, int rows, int c)
    {
        for (var n = 0; n < rows; n++)
        {
            var xr = x.Slice(n * c, c);
            var yr = y.Slice(n * c, c);
            var r = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xr) / c + eps);
            rstd[n] = r;
            TensorPrimitives.Multiply(xr, r, yr);
            TensorPrimitives.Multiply(yr, w, yr);
        }
    }

    /// <summary>Plain reference of <see cref="RmsNormForward"/> (double accumulation; equivalence tests).</summary>
    public static void RmsNormForwardReference(ReadOnlySpan<float> x, ReadOnlySpan<float> w, float eps, Span<float> y, Span<float> rstd, int rows, int c)
    {
        for (var n = 0; n < rows; n++)
        {
            var xr = x.Slice(n * c, c);
            double sum = 0;
            for (var j = 0; j < c; j++)
                sum += xr[j] * xr[j];
            var r = (float)(1.0 / Math.Sqrt(sum / c + eps));
            rstd[n] = r;
            var yr = y.Slice(n * c, c);
            for (var j = 0; j < c; j++)
                yr[j] = w[j] * (xr[j] * r);
        }
    }

    /// <summary>
    /// Backward of <see cref="RmsNormForward"/>: dx[n,:] (+)= r·g − x·r³·(g·x)/C with g = w ⊙ dy; dw += Σ_n dy ⊙ x·r.
    /// </summary>
    public static void RmsNormBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> rstd, ReadOnlySpan<float> dy,
        Span<float> dx, Span<float> dw, int rows, int c, bool accumulate)
    {
        for (var n = 0; n < rows; n++)
        {
            var xr = x.Slice(n * c, c);
            var dyr = dy.Slice(n * c, c);
            var dxr = dx.Slice(n * c, c);
            var r = rstd[n];
            double dot = 0;
            for (var j = 0; j < c; j++)
            {
                dot += (double)w[j] * dyr[j] * xr[j];
                dw[j] += dyr[j] * xr[j] * r;
            }
            var k = (float)(dot / c) * r * r * r;
            for (var j = 0; j < c; j++)
            {
                var v = r * w[j] * dyr[j] - k * xr[j];
                dxr[j] = accumulate ? dxr[j] + v : v;
            }
        }
    }

    /// <summary>
    /// Rotate-half RoPE in place on x [N, heads·D] for the tokens of one sequence starting at position 0:
    /// (x[j], x[j+D/2]) rotated by angle p·invFreq[j]. <paramref name="inverse"/> rotates back (the backward pass).
    /// cos/sin tables: [positions, D/2].
    /// </summary>
    public static void Rope(Span<float> x, int tokens, int heads, int d, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, bool inverse)
    {
        var half = d / 2;
        for (var p = 0; p < tokens; p++)
        {
            var cp = cos.Slice(p * half, half);
            var sp = sin.Slice(p * half, half);
            for (var h = 0; h < heads; h++)
            {
                var v = x.Slice((p * heads + h) * d, d);
                for (var j = 0; j < half; j++)
                {
                    float a = v[j], b = v[j + half], cs = cp[j], sn = inverse ? -sp[j] : sp[j];
                    v[j] = a * cs - b * sn;
                    v[j + half] = b * cs + a * sn;
                }
            }
        }
    }

    /// <summary>act = silu(gate) ⊙ up, silu(g) = g·σ(g). All [N, F]. Vectorised (TensorPrimitives), two halves in parallel.</summary>
    public static void SwiGluForward(float[] gate, float[] up, float[] act, int count) =>
        ForHalves(count, (start, length) =>
        {
            var a = act.AsSpan(start, length);
            var g = gate.AsSpan(start, length);
            TensorPrimitives.Sigmoid(g, a);
            TensorPrimitives.Multiply(a, g, a);
            TensorPrimitives.Multiply(a, up.AsSpan(start, length), a);
        });

    /// <summary>Backward of <see cref="SwiGluForward"/>, vectorised in blocks: dgate = dact ⊙ up ⊙ σ(g)(1 + g(1 − σ(g))); dup = dact ⊙ silu(g).</summary>
    public static void SwiGluBackward(float[] gate, float[] up, float[] dact, float[] dgate, float[] dup, int count) =>
        ForHalves(count, (start, length) =>
        {
            Span<float> sigBuffer = stackalloc float[512];
            Span<float> tmpBuffer = stackalloc float[512];
            for (var block = start; block < start + length; block += sigBuffer.Length)
            {
                var n = Math.Min(sigBuffer.Length, start + length - block);
                ReadOnlySpan<float> g = gate.AsSpan(block, n), u = up.AsSpan(block, n), da = dact.AsSpan(block, n);
                Span<float> sig = sigBuffer[..n], tmp = tmpBuffer[..n], dg = dgate.AsSpan(block, n), du = dup.AsSpan(block, n);
                TensorPrimitives.Sigmoid(g, sig);
                TensorPrimitives.Multiply(g, sig, du);            // silu(g)
                TensorPrimitives.Multiply(du, da, du);            // dup = dact·silu(g)
                TensorPrimitives.Subtract(1f, sig, tmp);          // 1 − σ
                TensorPrimitives.Multiply(g, tmp, tmp);           // g(1 − σ)
                TensorPrimitives.Add(tmp, 1f, tmp);               // 1 + g(1 − σ)
                TensorPrimitives.Multiply(tmp, sig, tmp);         // silu'(g)
                TensorPrimitives.Multiply(tmp, u, tmp);
                TensorPrimitives.Multiply(tmp, da, dg);           // dgate = dact·up·silu'(g)
            }
        });

    /// <summary>Runs <paramref name="body"/>(start, length) on the two halves of [0, count) in parallel (the machine has 2 cores).</summary>
    private static void ForHalves(int count, Action<int, int> body)
    {
        if (count < 32768)
        {
            body(0, count);
            return;
        }
        var half = count / 2;
        Parallel.Invoke(() => body(0, half), () => body(half, count - half));
    }

    /// <summary>Plain reference of <see cref="SwiGluForward"/> (equivalence tests).</summary>
    public static void SwiGluForwardReference(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> act)
    {
        for (var i = 0; i < act.Length; i++)
        {
            var g = gate[i];
            act[i] = g / (1 + MathF.Exp(-g)) * up[i];
        }
    }

    /// <summary>Plain reference of <see cref="SwiGluBackward(float[], float[], float[], float[], float[], int)"/>.</summary>
    public static void SwiGluBackwardReference(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, ReadOnlySpan<float> dact, Span<float> dgate, Span<float> dup)
    {
        for (var i = 0; i < dact.Length; i++)
        {
            var g = gate[i];
            var s = 1 / (1 + MathF.Exp(-g));
            dgate[i] = dact[i] * up[i] * s * (1 + g * (1 - s));
            dup[i] = dact[i] * g * s;
        }
    }

    /// <summary>Row-wise causal softmax in place on scores [T, T] (row i keeps columns 0..i; the rest become 0). Vectorised.</summary>
    public static void CausalSoftmax(Span<float> scores, int t)
    {
        for (var i = 0; i < t; i++)
        {
            var row = scores.Slice(i * t, t);
            var seg = row[..(i + 1)];
            TensorPrimitives.Subtract(seg, TensorPrimitives.Max(seg), seg);
            TensorPrimitives.Exp(seg, seg);
            TensorPrimitives.Multiply(seg, 1f / TensorPrimitives.Sum(seg), seg);
            row[(i + 1)..].Clear();
        }
    }

    /// <summary>Plain reference of <see cref="CausalSoftmax"/> (equivalence tests).</summary>
    public static void CausalSoftmaxReference(Span<float> scores, int t)
    {
        for (var i = 0; i < t; i++)
        {
            var row = scores.Slice(i * t, t);
            var max = float.NegativeInfinity;
            for (var j = 0; j <= i; j++)
                max = Math.Max(max, row[j]);
            double sum = 0;
            for (var j = 0; j <= i; j++)
            {
                var e = MathF.Exp(row[j] - max);
                row[j] = e;
                sum += e;
            }
            var inv = (float)(1 / sum);
            for (var j = 0; j <= i; j++)
                row[j] *= inv;
            row[(i + 1)..].Clear();
        }
    }

    /// <summary>Softmax backward on a causal row block: dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale, in place into dP.</summary>
    public static void CausalSoftmaxBackward(ReadOnlySpan<float> p, Span<float> dp, int t, float scale)
    {
        for (var i = 0; i < t; i++)
        {
            var pr = p.Slice(i * t, t);
            var dr = dp.Slice(i * t, t);
            double dot = 0;
            for (var j = 0; j <= i; j++)
                dot += pr[j] * dr[j];
            var d = (float)dot;
            for (var j = 0; j <= i; j++)
                dr[j] = pr[j] * (dr[j] - d) * scale;
            dr[(i + 1)..].Clear();
        }
    }

    /// <summary>db[j] += Σ_n dy[n, j]. dy [N, C].</summary>
    public static void BiasBackward(ReadOnlySpan<float> dy, Span<float> db, int rows, int c)
    {
        for (var n = 0; n < rows; n++)
        {
            var r = dy.Slice(n * c, c);
            for (var j = 0; j < c; j++)
                db[j] += r[j];
        }
    }

    /// <summary>y[n, :] += b for every row. y [N, C].</summary>
    public static void AddBias(Span<float> y, ReadOnlySpan<float> b, int rows, int c)
    {
        for (var n = 0; n < rows; n++)
        {
            var r = y.Slice(n * c, c);
            for (var j = 0; j < c; j++)
                r[j] += b[j];
        }
    }
}
