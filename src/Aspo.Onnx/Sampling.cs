using System.Numerics.Tensors;
using Aspo.Data;
using Aspo.Model;

namespace Aspo.Onnx;

/// <summary>
/// Choosing the next token from one logits row. The recorded log-prob is always log_softmax(logits/T) over the full
/// vocabulary in fp32 at the chosen token (DESIGN invariant 1); top-k/top-p only restrict which token may be drawn.
/// Temperature 0 is greedy (log-prob and entropy then at T = 1).
/// </summary>
public static class Sampling
{
    /// <summary>Returns the token, its full-vocabulary log-prob at temperature T, and the entropy of softmax(logits/T).</summary>
    public static (int Token, float LogProb, float Entropy) Sample(ReadOnlySpan<float> logits, SamplingParams p, ref ulong rng, ref float[] scratch)
    {
        var v = logits.Length;
        if (scratch.Length < v)
            scratch = new float[v];
        var t = p.Temperature == 0 ? 1f : p.Temperature;
        var invT = 1f / t;
        // probabilities (unnormalised) e_j = exp((z_j − max)/T) in scratch; log Σ e; entropy (sums in fp64)
        var norm = SoftmaxRow.Normalise(logits, invT, scratch.AsSpan(0, v));

        int token;
        if (!Draws(p))
            token = TensorPrimitives.IndexOfMax(logits); // the first maximum
        else if (p.TopK == 0 && p.TopP >= 1)
            token = Draw(scratch.AsSpan(0, v), norm.Sum, ref rng);
        else
            token = DrawTruncated(scratch.AsSpan(0, v), p.TopK, p.TopP, ref rng);
        return (token, norm.LogProb(logits, token), (float)norm.Entropy);
    }

    /// <summary>Whether a token is drawn with one uniform number (false: greedy, T = 0 or top-k 1, no random number used).</summary>
    public static bool Draws(SamplingParams p) => p.Temperature != 0 && p.TopK != 1;

    /// <summary>log_softmax(logits/T)[token] over the full vocabulary and the entropy of softmax(logits/T) (<see cref="SoftmaxRow"/>, as the sampler records them).</summary>
    public static (float LogProb, float Entropy) LogProbAndEntropy(ReadOnlySpan<float> logits, int token, float temperature)
    {
        var scratch = System.Buffers.ArrayPool<float>.Shared.Rent(logits.Length);
        try
        {
            var norm = SoftmaxRow.Normalise(logits, 1f / temperature, scratch.AsSpan(0, logits.Length));
            return (norm.LogProb(logits, token), (float)norm.Entropy);
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>Inverse-CDF draw from unnormalised weights.</summary>
    private static int Draw(ReadOnlySpan<float> weights, double sum, ref ulong rng)
    {
        var target = SplitMix64.NextDouble(ref rng) * sum;
        double cumulative = 0;
        for (var j = 0; j < weights.Length; j++)
        {
            cumulative += weights[j];
            if (cumulative > target)
                return j;
        }
        for (var j = weights.Length - 1; j >= 0; j--) // rounding: the last token with weight
            if (weights[j] > 0)
                return j;
        return 0;
    }

    /// <summary>Keep the top-k weights (k = 0: all), then the smallest prefix (descending) whose mass reaches top_p; draw among them.</summary>
    private static int DrawTruncated(ReadOnlySpan<float> weights, int topK, float topP, ref ulong rng)
    {
        var order = new int[weights.Length];
        for (var j = 0; j < order.Length; j++)
            order[j] = j;
        var w = weights.ToArray();
        Array.Sort(order, (a, b) => w[b].CompareTo(w[a]) != 0 ? w[b].CompareTo(w[a]) : a.CompareTo(b));
        var keep = topK > 0 ? Math.Min(topK, order.Length) : order.Length;
        double total = 0;
        for (var i = 0; i < keep; i++)
            total += w[order[i]];
        if (topP < 1)
        {
            double cumulative = 0;
            for (var i = 0; i < keep; i++)
            {
                cumulative += w[order[i]];
                if (cumulative >= topP * total)
                {
                    keep = i + 1;
                    break;
                }
            }
            total = 0;
            for (var i = 0; i < keep; i++)
                total += w[order[i]];
        }
        var target = SplitMix64.NextDouble(ref rng) * total;
        double acc = 0;
        for (var i = 0; i < keep; i++)
        {
            acc += w[order[i]];
            if (acc > target)
                return order[i];
        }
        return order[keep - 1];
    }
}
