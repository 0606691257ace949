namespace Aspo.Model.Tests;

public sealed class LearnerTests
{
    private static double Loss(Decoder d, ModelFixture f, float[] cLp, float[] cH)
    {
        var lp = new float[cLp.Length];
        var h = new float[cLp.Length];
        d.Forward(f.Tokens, f.Offsets, f.Starts, 0.7f, lp, h, forTraining: false);
        double loss = 0;
        for (var i = 0; i < lp.Length; i++)
            loss += (double)cLp[i] * lp[i] + (double)cH[i] * h[i];
        return loss;
    }

    /// <summary>Central differences on the largest-gradient element of several tensors, independent of PyTorch.</summary>
    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void Gradients_match_finite_differences(string family)
    {
        var f = new ModelFixture(family);
        var d = f.Load();
        var cLp = f.Floats("coef_logprobs");
        var cH = f.Floats("coef_entropies");
        var lp = new float[cLp.Length];
        d.Forward(f.Tokens, f.Offsets, f.Starts, 0.7f, lp, new float[cLp.Length], forTraining: true);
        d.ZeroGradients();
        d.Backward(cLp, cH);
        var checkedCount = CheckFiniteDifferences(d, () => Loss(d, f, cLp, cH), everyNthTensor: 3);
        Assert.True(checkedCount >= 5, $"only {checkedCount} tensors had a gradient large enough to check");
    }

    /// <summary>
    /// Central differences (h = 1e-2) on the largest-gradient element of every n-th tensor whose gradient is at least
    /// 0.05, against <paramref name="d"/>'s accumulated gradients (3 % + 2e-3); returns how many were checked.
    /// </summary>
    internal static int CheckFiniteDifferences(Decoder d, Func<double> loss, int everyNthTensor)
    {
        var gradients = (float[])d.Gradients.Clone();
        var checkedCount = 0;
        foreach (var t in d.Layout.Tensors.Where((_, i) => i % everyNthTensor == 0))
        {
            var i = (int)t.Offset + Enumerable.Range(0, (int)t.Count).MaxBy(k => Math.Abs(gradients[t.Offset + k]));
            if (Math.Abs(gradients[i]) < 0.05)
                continue;
            var original = d.Parameters[i];
            const float h = 1e-2f;
            d.Parameters[i] = original + h;
            var plus = loss();
            d.Parameters[i] = original - h;
            var minus = loss();
            d.Parameters[i] = original;
            var numeric = (plus - minus) / (2 * h);
            Assert.True(Math.Abs(numeric - gradients[i]) <= 0.03 * Math.Abs(gradients[i]) + 2e-3,
                $"{t.Name}[{i - t.Offset}]: backward {gradients[i]}, finite difference {numeric}");
            checkedCount++;
        }
        return checkedCount;
    }

    [Fact]
    public void Micro_batches_accumulate_to_the_whole_batch_gradient()
    {
        var f = new ModelFixture("qwen2");
        var cLp = f.Floats("coef_logprobs");
        var whole = f.Load();
        whole.Forward(f.Tokens, f.Offsets, f.Starts, 1f, new float[cLp.Length], [], forTraining: true);
        whole.ZeroGradients();
        whole.Backward(cLp, []);

        var split = f.Load();
        split.ZeroGradients();
        var scoredSoFar = 0;
        for (var b = 0; b < f.Starts.Length; b++) // one sequence per micro-batch
        {
            var tokens = f.Tokens[f.Offsets[b]..f.Offsets[b + 1]];
            var scored = tokens.Length - f.Starts[b];
            split.Forward(tokens, [0, tokens.Length], [f.Starts[b]], 1f, new float[scored], [], forTraining: true);
            split.Backward(cLp.AsSpan(scoredSoFar, scored), []);
            scoredSoFar += scored;
        }
        var maxDiff = whole.Gradients.Zip(split.Gradients, (a, b) => Math.Abs(a - b)).Max();
        var scale = whole.Gradients.Max(Math.Abs);
        Assert.True(maxDiff <= 1e-5 * scale, $"max |Δ| {maxDiff} (gradient scale {scale})");
    }

    /// <summary>
    /// A batch whose scored tokens span two vocabulary chunks: the backward reuses the forward's logits for chunk 0 and
    /// recomputes chunk 1; sequences alone fit one chunk each. Both must give the same gradient.
    /// </summary>
    [Fact]
    public void A_batch_over_several_vocabulary_chunks_gets_the_sum_of_its_sequences_gradients()
    {
        var config = new ModelConfig
        {
            Family = ModelFamily.Qwen2, HiddenSize = 16, IntermediateSize = 32, NumLayers = 1, NumHeads = 2, NumKvHeads = 1,
            HeadDim = 8, VocabSize = 1 << 18, TieWordEmbeddings = true, RopeTheta = 1e4, MaxPositionEmbeddings = 256,
        };
        var chunk = Decoder.ChunkRows(config.VocabSize);
        var rng = new Random(5);
        var sequences = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 120).Select(_ => rng.Next(config.VocabSize)).ToArray()).ToArray();
        const int start = 20;
        var scored = sequences.Sum(s => s.Length - start);
        Assert.True(scored > chunk && sequences[0].Length - start <= chunk, $"chunk {chunk} rows, {scored} scored tokens");
        var coefficients = Enumerable.Range(0, scored).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var parameters = ModelInit.Random(config, seed: 3);

        var whole = new Decoder(config, (float[])parameters.Clone(), new Aspo.Native.Blas.OneDnnGemm());
        var offsets = new[] { 0, 120, 240, 360 };
        whole.Forward(sequences.SelectMany(s => s).ToArray(), offsets, [start, start, start], 1f, new float[scored], [], forTraining: true);
        whole.ZeroGradients();
        whole.Backward(coefficients, []);

        var split = new Decoder(config, (float[])parameters.Clone(), new Aspo.Native.Blas.OneDnnGemm());
        split.ZeroGradients();
        for (var b = 0; b < sequences.Length; b++)
        {
            var n = sequences[b].Length - start;
            split.Forward(sequences[b], [0, sequences[b].Length], [start], 1f, new float[n], [], forTraining: true);
            split.Backward(coefficients.AsSpan(b * n, n), []);
        }
        var maxDiff = whole.Gradients.Zip(split.Gradients, (a, b) => Math.Abs(a - b)).Max();
        var scale = whole.Gradients.Max(Math.Abs);
        Assert.True(scale > 0 && maxDiff <= 1e-5 * scale, $"max |Δ| {maxDiff} (gradient scale {scale})");
    }

    [Fact]
    public void Packed_and_separate_sequences_score_the_same()
    {
        var f = new ModelFixture("qwen3");
        var d = f.Load();
        var packed = new float[f.Floats("logprobs_t1").Length];
        d.Forward(f.Tokens, f.Offsets, f.Starts, 1f, packed, [], forTraining: false);
        var separate = new List<float>();
        for (var b = 0; b < f.Starts.Length; b++)
        {
            var tokens = f.Tokens[f.Offsets[b]..f.Offsets[b + 1]];
            var lp = new float[tokens.Length - f.Starts[b]];
            d.Forward(tokens, [0, tokens.Length], [f.Starts[b]], 1f, lp, [], forTraining: false);
            separate.AddRange(lp);
        }
        // no attention across sequence boundaries, positions restart at 0 (GEMM blocking differs with N: not bit-equal)
        Assert.True(separate.Zip(packed, (a, b) => Math.Abs(a - b)).Max() <= 1e-5, "packed and separate log-probs differ");
    }

    [Fact]
    public void Sft_steps_lower_the_negative_log_likelihood()
    {
        var f = new ModelFixture("llama");
        var d = f.Load();
        var scored = f.Floats("logprobs_t1").Length;
        var lp = new float[scored];
        var adam = new AdamW(d.Parameters.LongLength, new AdamWOptions { WeightDecay = 0 });
        var losses = new List<double>();
        for (var step = 0; step < 8; step++)
        {
            d.Forward(f.Tokens, f.Offsets, f.Starts, 1f, lp, [], forTraining: true);
            losses.Add(CrossEntropyObjective.Loss(lp));
            d.ZeroGradients();
            d.Backward(CrossEntropyObjective.Coefficients(scored), []);
            adam.Update(d.Parameters, d.Gradients, 3e-3);
        }
        Assert.True(losses[^1] < 0.5 * losses[0], $"NLL went {losses[0]:F3} → {losses[^1]:F3}");
    }

    [Fact]
    public void Optimizer_state_round_trips()
    {
        var path = Path.Combine(Path.GetTempPath(), $"aspo-adam-{Guid.NewGuid():N}.safetensors");
        try
        {
            var p = new float[] { 1, 2, 3 };
            var adam = new AdamW(3);
            adam.Update(p, [0.1f, -0.2f, 0.3f], 0.01);
            adam.Update(p, [0.2f, -0.1f, 0.0f], 0.01);
            adam.Save(path);
            var restored = new AdamW(3);
            restored.Load(path);
            Assert.Equal(adam.M, restored.M);
            Assert.Equal(adam.V, restored.V);
            Assert.Equal(2, restored.Step);
            var p2 = (float[])p.Clone();
            adam.Update(p, [0.5f, 0.5f, 0.5f], 0.01);
            restored.Update(p2, [0.5f, 0.5f, 0.5f], 0.01);
            Assert.Equal(p, p2);
            Assert.Throws<ModelFormatException>(() => new AdamW(4).Load(path)); // wrong parameter count is named
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Gradient_clipping_scales_to_the_max_norm()
    {
        float[] g = [3, 4];
        Assert.Equal(5, AdamW.ClipGradientNorm(g, 1.0), 6);
        Assert.Equal(1.0, Math.Sqrt(g[0] * g[0] + g[1] * g[1]), 5);
        float[] small = [0.3f, 0.4f];
        AdamW.ClipGradientNorm(small, 1.0);
        Assert.Equal([0.3f, 0.4f], small);
    }

    [Fact]
    public void Schedules_warm_up_and_decay()
    {
        var cosine = new LearningRateSchedule("cosine", 1e-3, WarmupSteps: 10, TotalSteps: 110, MinLearningRateRatio: 0.1);
        Assert.Equal(1e-4, cosine.At(0), 12);
        Assert.Equal(1e-3, cosine.At(9), 12);
        Assert.Equal(1e-3, cosine.At(10), 12);
        Assert.Equal(0.55e-3, cosine.At(60), 12);   // half way: (max + min) / 2
        Assert.Equal(1e-4, cosine.At(110), 12);
        Assert.Equal(1e-3, new LearningRateSchedule("warmup", 1e-3, WarmupSteps: 4).At(100), 12);
        Assert.Equal(2e-6, new LearningRateSchedule("constant", 2e-6).At(7), 12);
        Assert.Contains("valid: constant, warmup, cosine", Assert.Throws<ArgumentException>(() => new LearningRateSchedule("linear", 1).At(0)).Message);
    }

    [Fact]
    public void Memory_plan_matches_what_the_learner_allocates()
    {
        var f = new ModelFixture("qwen3");
        var (config, parameters) = Checkpoint.Load(f.Folder);
        var lengths = Enumerable.Range(0, f.Starts.Length).Select(b => f.Offsets[b + 1] - f.Offsets[b]).ToArray();
        var plan = MemoryPlan.Estimate(config, lengths);
        var scored = f.Floats("logprobs_t1").Length;
        var before = GC.GetAllocatedBytesForCurrentThread();
        var d = new Decoder(config, parameters, new Aspo.Native.Blas.OneDnnGemm());
        var adam = new AdamW(parameters.LongLength);
        d.Forward(f.Tokens, f.Offsets, f.Starts, 1f, new float[scored], [], forTraining: true);
        d.Backward(new float[scored], []);
        adam.Update(d.Parameters, d.Gradients, 1e-3);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var expected = plan.TotalBytes - plan.ParameterBytes; // the parameter slab was allocated by Checkpoint.Load
        Assert.InRange(allocated, expected, expected * 1.15 + 64 * 1024); // small extras: RoPE tables, batch shape, lists
    }

    /// <summary>micro_batch auto: the chosen size divides the mini-batch, its longest sequences' plan fits the budget,
    /// and every larger divisor's does not (so it is the largest that fits); nothing fits → 1.</summary>
    [Fact]
    public void The_largest_micro_batch_that_fits_is_chosen()
    {
        var (config, _) = Checkpoint.Load(new ModelFixture("qwen3").Folder);
        var rng = new Random(4);
        var lengths = Enumerable.Range(0, 48).Select(_ => rng.Next(20, 400)).ToArray();
        var longest = lengths.OrderDescending().ToArray();
        foreach (var budget in new[] { 2L << 20, 8L << 20, 32L << 20, 1L << 30 })
        {
            var m = MemoryPlan.LargestMicroBatch(config, lengths, 48, budget);
            Assert.Equal(0, 48 % m);
            Assert.True(m == 1 || MemoryPlan.Estimate(config, longest[..m]).TotalBytes <= budget, $"budget {budget}: {m} does not fit");
            foreach (var larger in Enumerable.Range(m + 1, 48 - m).Where(d => 48 % d == 0))
                Assert.True(MemoryPlan.Estimate(config, longest[..larger]).TotalBytes > budget, $"budget {budget}: {larger} would also fit");
        }
        Assert.Equal(48, MemoryPlan.LargestMicroBatch(config, lengths, 48, 1L << 40));
        Assert.Equal(1, MemoryPlan.LargestMicroBatch(config, lengths, 48, 1));
    }
}
