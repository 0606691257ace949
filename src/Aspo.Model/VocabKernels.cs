using System.Numerics.Tensors;

namespace Aspo.Model;

/// <summary>
/// Per-row work of the vocabulary head at temperature T (u = z/T): the log-prob of the target and the entropy,
/// and their gradient with respect to the logits, on the shared <see cref="SoftmaxRow"/> kernel; tested against
/// <see cref="LogSoftmax.Exact"/> and the plain double-precision gradient below.
/// </summary>
internal static class VocabKernels
{
    /// <summary>log softmax(u)[y] and −Σ p log p for one logits row z [V] (<see cref="SoftmaxRow"/>, as the rollout
    /// records them). <paramref name="e"/>: scratch [V].</summary>
    public static (float LogProb, float Entropy) Score(ReadOnlySpan<float> z, int target, float invT, Span<float> e)
    {
        var n = SoftmaxRow.Normalise(z, invT, e);
        return (n.LogProb(z, target), (float)n.Entropy);
    }

    /// <summary>In place: z ← ∂L/∂z = −p ⊙ (cL + cH·(log p + H)) / T, plus cL/T at the target. Scratch u, e [V].</summary>
    public static void Gradient(Span<float> z, int target, float invT, float cLogProb, float cEntropy, Span<float> u, Span<float> e)
    {
        var n = SoftmaxRow.Normalise(z, invT, e);
        TensorPrimitives.Subtract(z, n.Max, u);
        TensorPrimitives.Multiply(u, invT, u);                // u = (z − max)/T, as the kernel computed it
        var p = e;
        TensorPrimitives.Divide(e, (float)n.Sum, p);          // p = e / Σe
        var g = u;
        TensorPrimitives.Subtract(u, (float)(n.LogSum - n.Entropy), g); // log p + H
        TensorPrimitives.Multiply(g, cEntropy, g);
        TensorPrimitives.Add(g, cLogProb, g);                 // cL + cH·(log p + H)
        TensorPrimitives.Multiply(g, p, g);
        TensorPrimitives.Multiply(g, -invT, z);
        z[target] += cLogProb * invT;
    }

    /// <summary>Plain double-precision reference of <see cref="Gradient"/>.</summary>
    public static void GradientReference(Span<float> z, int target, float invT, float cLogProb, float cEntropy)
    {
        var (_, entropy) = LogSoftmax.Exact(z, target, invT);
        var max = float.NegativeInfinity;
        foreach (var x in z)
            max = Math.Max(max, x);
        double sum = 0;
        foreach (var x in z)
            sum += Math.Exp((x - max) * (double)invT);
        var logSum = Math.Log(sum);
        for (var j = 0; j < z.Length; j++)
        {
            var logP = (z[j] - max) * (double)invT - logSum;
            var p = Math.Exp(logP);
            z[j] = (float)(-p * (cLogProb + cEntropy * (logP + entropy)) * invT);
        }
        z[target] += cLogProb * invT;
    }
}
