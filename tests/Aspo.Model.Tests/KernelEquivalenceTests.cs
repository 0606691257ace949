namespace Aspo.Model.Tests;

/// <summary>Each optimised kernel against its plain reference version, fixed seeds.</summary>
public sealed class KernelEquivalenceTests
{
    private static float[] Random(int n, int seed, double scale = 3)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();
    }

    private static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double relative, double absolute, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * Math.Abs(expected[i]) + absolute,
                $"{what}[{i}]: {actual[i]} vs reference {expected[i]}");
    }

    [Theory]
    [InlineData(1000)]     // one block, sequential
    [InlineData(70001)]    // odd length, two parallel halves, scalar tails
    public void SwiGlu_forward_and_backward(int n)
    {
        float[] gate = Random(n, 1), up = Random(n, 2), dact = Random(n, 3);
        float[] act = new float[n], actRef = new float[n];
        Kernels.SwiGluForward(gate, up, act, n);
        Kernels.SwiGluForwardReference(gate, up, actRef);
        Close(actRef, act, 1e-5, 1e-6, "act");
        float[] dg = new float[n], du = new float[n], dgRef = new float[n], duRef = new float[n];
        Kernels.SwiGluBackward(gate, up, dact, dg, du, n);
        Kernels.SwiGluBackwardReference(gate, up, dact, dgRef, duRef);
        Close(dgRef, dg, 1e-5, 1e-6, "dgate");
        Close(duRef, du, 1e-5, 1e-6, "dup");
    }

    [Fact]
    public void Causal_softmax()
    {
        const int t = 37;
        var scores = Random(t * t, 4, scale: 8);
        var reference = (float[])scores.Clone();
        Kernels.CausalSoftmax(scores, t);
        Kernels.CausalSoftmaxReference(reference, t);
        Close(reference, scores, 1e-5, 1e-7, "probs");
    }

    [Fact]
    public void Rms_norm_forward()
    {
        const int rows = 9, c = 131;
        float[] x = Random(rows * c, 5), w = Random(c, 6);
        float[] y = new float[rows * c], yRef = new float[rows * c], r = new float[rows], rRef = new float[rows];
        Kernels.RmsNormForward(x, w, 1e-6f, y, r, rows, c);
        Kernels.RmsNormForwardReference(x, w, 1e-6f, yRef, rRef, rows, c);
        Close(yRef, y, 1e-5, 1e-7, "y");
        Close(rRef, r, 1e-5, 0, "rstd");
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.7f)]
    public void Vocabulary_score_and_gradient(float temperature)
    {
        const int v = 50021;
        var z = Random(v, 7, scale: 12);
        var invT = 1 / temperature;
        float[] u = new float[v], e = new float[v];
        var (lp, h) = VocabKernels.Score(z, 123, invT, e);
        var (lpRef, hRef) = LogSoftmax.Exact(z, 123, invT);
        Assert.True(Math.Abs(lp - lpRef) <= 1e-5 && Math.Abs(h - hRef) <= 1e-5, $"logprob {lp} vs {lpRef}, entropy {h} vs {hRef}");

        var g = (float[])z.Clone();
        var gRef = (float[])z.Clone();
        VocabKernels.Gradient(g, 123, invT, -0.8f, 0.3f, u, e);
        VocabKernels.GradientReference(gRef, 123, invT, -0.8f, 0.3f);
        Close(gRef, g, 1e-4, 1e-9, "dz");
    }

    [Fact]
    public void AdamW_update()
    {
        const int n = 100_003; // parallel halves, vector lanes and a scalar tail
        var parameters = Random(n, 8);
        var reference = (float[])parameters.Clone();
        var fast = new AdamW(n, new AdamWOptions { Beta2 = 0.95, WeightDecay = 0.1 });
        var plain = new AdamW(n, new AdamWOptions { Beta2 = 0.95, WeightDecay = 0.1 });
        for (var step = 0; step < 3; step++)
        {
            var g = Random(n, 20 + step, scale: 0.5);
            fast.Update(parameters, g, 1e-3);
            plain.UpdateReference(reference, g, 1e-3);
        }
        Close(reference, parameters, 1e-6, 1e-7, "parameters");
        Close(plain.V, fast.V, 1e-6, 1e-12, "second moment");
    }
}
