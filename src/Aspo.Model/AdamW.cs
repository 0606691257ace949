namespace Aspo.Model;

/// <summary>
/// AdamW (Loshchilov &amp; Hutter) as torch.optim.AdamW computes it, over the parameter slab: decoupled weight decay
/// p ← p·(1 − lr·wd), moments m, v in slabs of the same layout, bias-corrected step
/// p ← p − lr/(1 − β1ᵗ) · m / (√v/√(1 − β2ᵗ) + ε).
/// </summary>
public sealed class AdamW
{
    public AdamW(long parameterCount, AdamWOptions? options = null)
    {
        Options = options ?? new AdamWOptions();
        Options.Validate();
        M = new float[parameterCount];
        V = new float[parameterCount];
    }

    public AdamWOptions Options { get; }
    /// <summary>First moment, [P].</summary>
    public float[] M { get; }
    /// <summary>Second moment, [P].</summary>
    public float[] V { get; }
    /// <summary>Steps taken so far.</summary>
    public long Step { get; private set; }

    /// <summary>One update of <paramref name="parameters"/> from <paramref name="gradients"/> at learning rate <paramref name="lr"/>.</summary>
    public void Update(float[] parameters, float[] gradients, double lr)
    {
        if (parameters.Length != M.Length || gradients.Length != M.Length)
            throw new ArgumentException($"optimizer state holds {M.Length} parameters; got {parameters.Length} parameters and {gradients.Length} gradients");
        Step++;
        double b1 = Options.Beta1, b2 = Options.Beta2;
        var stepSize = lr / (1 - Math.Pow(b1, Step));
        var bc2Sqrt = Math.Sqrt(1 - Math.Pow(b2, Step));
        var decay = (float)(1 - lr * Options.WeightDecay);
        var k = new StepConstants((float)b1, (float)b2, (float)Options.Epsilon, (float)stepSize, (float)bc2Sqrt, decay);
        if (parameters.Length < 65536)
        {
            UpdateRange(parameters, gradients, M, V, k);
            return;
        }
        var half = parameters.Length / 2; // two halves in parallel (2 cores)
        Parallel.Invoke(
            () => UpdateRange(parameters.AsSpan(0, half), gradients.AsSpan(0, half), M.AsSpan(0, half), V.AsSpan(0, half), k),
            () => UpdateRange(parameters.AsSpan(half), gradients.AsSpan(half), M.AsSpan(half), V.AsSpan(half), k));
    }

    private readonly record struct StepConstants(float Beta1, float Beta2, float Epsilon, float StepSize, float Bc2Sqrt, float Decay);

    /// <summary>The AdamW update on one range, with Vector&lt;float&gt; lanes and a scalar tail.</summary>
    private static void UpdateRange(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, StepConstants k)
    {
        var width = System.Numerics.Vector<float>.Count;
        var i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            var b1 = new System.Numerics.Vector<float>(k.Beta1);
            var c1 = new System.Numerics.Vector<float>(1 - k.Beta1);
            var b2 = new System.Numerics.Vector<float>(k.Beta2);
            var c2 = new System.Numerics.Vector<float>(1 - k.Beta2);
            var eps = new System.Numerics.Vector<float>(k.Epsilon);
            var step = new System.Numerics.Vector<float>(k.StepSize);
            var invBc2 = new System.Numerics.Vector<float>(1 / k.Bc2Sqrt);
            var decay = new System.Numerics.Vector<float>(k.Decay);
            for (; i <= p.Length - width; i += width)
            {
                var gi = new System.Numerics.Vector<float>(g[i..]);
                var mi = b1 * new System.Numerics.Vector<float>(m[i..]) + c1 * gi;
                var vi = b2 * new System.Numerics.Vector<float>(v[i..]) + c2 * gi * gi;
                mi.CopyTo(m[i..]);
                vi.CopyTo(v[i..]);
                var pi = new System.Numerics.Vector<float>(p[i..]) * decay - step * mi / (System.Numerics.Vector.SquareRoot(vi) * invBc2 + eps);
                pi.CopyTo(p[i..]);
            }
        }
        for (; i < p.Length; i++)
            UpdateOne(ref p[i], g[i], ref m[i], ref v[i], k);
    }

    private static void UpdateOne(ref float p, float g, ref float m, ref float v, StepConstants k)
    {
        m = k.Beta1 * m + (1 - k.Beta1) * g;
        v = k.Beta2 * v + (1 - k.Beta2) * g * g;
        p = p * k.Decay - k.StepSize * m / (MathF.Sqrt(v) * (1 / k.Bc2Sqrt) + k.Epsilon);
    }

    /// <summary>Plain one-element-at-a-time reference of <see cref="Update"/> (equivalence tests).</summary>
    internal void UpdateReference(Span<float> parameters, ReadOnlySpan<float> gradients, double lr)
    {
        Step++;
        var k = new StepConstants((float)Options.Beta1, (float)Options.Beta2, (float)Options.Epsilon,
            (float)(lr / (1 - Math.Pow(Options.Beta1, Step))), (float)Math.Sqrt(1 - Math.Pow(Options.Beta2, Step)), (float)(1 - lr * Options.WeightDecay));
        for (var i = 0; i < parameters.Length; i++)
            UpdateOne(ref parameters[i], gradients[i], ref M[i], ref V[i], k);
    }

    /// <summary>Scales <paramref name="gradients"/> so their global L2 norm is at most <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public static double ClipGradientNorm(Span<float> gradients, double maxNorm)
    {
        double sum = 0;
        foreach (var g in gradients)
            sum += (double)g * g;
        var norm = Math.Sqrt(sum);
        if (maxNorm > 0 && norm > maxNorm)
        {
            var scale = (float)(maxNorm / (norm + 1e-6)); // torch.nn.utils.clip_grad_norm_
            for (var i = 0; i < gradients.Length; i++)
                gradients[i] *= scale;
        }
        return norm;
    }

    /// <summary>Writes m, v and the step count as a safetensors file (atomically).</summary>
    public void Save(string path) => SaveState(path, M, V, Step);

    /// <summary>Restores state written by <see cref="Save"/>; the parameter count must match.</summary>
    public void Load(string path) => Step = LoadState(path, M, V);

    /// <summary>
    /// The optimizer state file every learner backend writes, <c>optimizer.safetensors</c>: "m" and "v" [P] in the
    /// parameter layout's order and "step" [1] (a float: exact for any count below 2^24 steps).
    /// </summary>
    public static void SaveState(string path, float[] m, float[] v, long step) => SafeTensorsWriter.WriteFloat32(path,
    [
        ("m", [m.LongLength], m), ("v", [v.LongLength], v), ("step", [1], new[] { (float)step }),
    ]);

    /// <summary>Reads a file written by <see cref="SaveState"/> into <paramref name="m"/> and <paramref name="v"/>
    /// (their length is the expected parameter count); returns the step count.</summary>
    public static long LoadState(string path, Span<float> m, Span<float> v)
    {
        using var reader = new SafeTensorsReader(path);
        reader.ReadFloat32("m", [m.Length], m);
        reader.ReadFloat32("v", [v.Length], v);
        var step = new float[1];
        reader.ReadFloat32("step", [1], step);
        return (long)step[0];
    }
}
