using System.Globalization;

namespace Aspo.Model;

/// <summary>AdamW settings (defaults: verl's actor optimizer).</summary>
public sealed record AdamWOptions
{
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    public double WeightDecay { get; init; } = 0.01;

    public void Validate()
    {
        if (Beta1 is < 0 or >= 1) throw new ArgumentException($"beta1 must be in [0, 1), got {Beta1}");
        if (Beta2 is < 0 or >= 1) throw new ArgumentException($"beta2 must be in [0, 1), got {Beta2}");
        if (!(Epsilon > 0)) throw new ArgumentException($"epsilon must be positive, got {Epsilon}");
        if (WeightDecay < 0) throw new ArgumentException($"weight decay must be ≥ 0, got {WeightDecay}");
    }
}

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
    public void Update(Span<float> parameters, ReadOnlySpan<float> gradients, double lr)
    {
        if (parameters.Length != M.Length || gradients.Length != M.Length)
            throw new ArgumentException($"optimizer state holds {M.Length} parameters; got {parameters.Length} parameters and {gradients.Length} gradients");
        Step++;
        double b1 = Options.Beta1, b2 = Options.Beta2;
        var stepSize = lr / (1 - Math.Pow(b1, Step));
        var bc2Sqrt = Math.Sqrt(1 - Math.Pow(b2, Step));
        var decay = (float)(1 - lr * Options.WeightDecay);
        float fb1 = (float)b1, fb2 = (float)b2, eps = (float)Options.Epsilon, fStep = (float)stepSize, fBc2 = (float)bc2Sqrt;
        var m = M.AsSpan();
        var v = V.AsSpan();
        for (var i = 0; i < parameters.Length; i++)
        {
            var g = gradients[i];
            var mi = m[i] = fb1 * m[i] + (1 - fb1) * g;
            var vi = v[i] = fb2 * v[i] + (1 - fb2) * g * g;
            var p = parameters[i] * decay;
            parameters[i] = p - fStep * mi / (MathF.Sqrt(vi) / fBc2 + eps);
        }
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
    public void Save(string path) => SafeTensorsWriter.WriteFloat32(path,
    [
        ("m", [M.LongLength], M), ("v", [V.LongLength], V),
        ("step", [1], new[] { (float)Step }), // exact for any count below 2^24 steps
    ]);

    /// <summary>Restores state written by <see cref="Save"/>; the parameter count must match.</summary>
    public void Load(string path)
    {
        using var reader = new SafeTensorsReader(path);
        reader.ReadFloat32("m", [M.LongLength], M);
        reader.ReadFloat32("v", [V.LongLength], V);
        var step = new float[1];
        reader.ReadFloat32("step", [1], step);
        Step = (long)step[0];
    }
}

/// <summary>Learning-rate schedules: constant, linear warm-up then constant, linear warm-up then cosine decay.</summary>
public sealed record LearningRateSchedule(string Kind, double PeakLearningRate, int WarmupSteps = 0, int TotalSteps = 0, double MinLearningRateRatio = 0)
{
    public static IReadOnlyList<string> Kinds { get; } = ["constant", "warmup", "cosine"];

    /// <summary>The learning rate of optimizer step <paramref name="step"/> (0-based).</summary>
    public double At(int step)
    {
        if (!Kinds.Contains(Kind))
            throw new ArgumentException($"unknown learning-rate schedule '{Kind}'; valid: {string.Join(", ", Kinds)}");
        if (Kind == "constant")
            return PeakLearningRate;
        if (step < WarmupSteps)
            return PeakLearningRate * (step + 1) / WarmupSteps;
        if (Kind == "warmup" || TotalSteps <= WarmupSteps)
            return PeakLearningRate;
        var progress = Math.Min(1.0, (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps));
        var min = PeakLearningRate * MinLearningRateRatio;
        return min + (PeakLearningRate - min) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Kind}(lr={PeakLearningRate}, warmup={WarmupSteps}, total={TotalSteps})");
}
