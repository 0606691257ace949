namespace Aspo.Algorithms.Tests;

/// <summary>Properties that hold for any input, checked on seeded random batches.</summary>
public sealed class PropertyTests
{
    /// <summary>A random padded batch of <paramref name="sequences"/> responses with ratios spread over every clip region.</summary>
    internal static (float[] Lp, float[] Old, float[] Adv, float[] Mask, float[] Entropy, int[] Offsets) RandomBatch(int seed, int sequences = 12, int width = 20)
    {
        var rng = new Random(seed);
        int n = sequences * width;
        float[] lp = new float[n], old = new float[n], adv = new float[n], mask = new float[n], h = new float[n];
        var offsets = new int[sequences + 1];
        for (var i = 0; i < sequences; i++)
        {
            offsets[i + 1] = (i + 1) * width;
            var length = rng.Next(0, width + 1);
            var a = (float)(rng.NextDouble() * 4 - 2);
            if (i % 5 == 0) a = 0;
            for (var t = 0; t < width; t++)
            {
                var k = i * width + t;
                old[k] = (float)(-rng.NextDouble() * 4 - 0.01);
                lp[k] = old[k] + (float)(rng.NextDouble() * 3.6 - 1.8); // r in [0.17, 6]
                mask[k] = t < length ? 1 : 0;
                adv[k] = a * mask[k];
                h[k] = (float)(rng.NextDouble() * 4);
            }
        }
        return (lp, old, adv, mask, h, offsets);
    }

    private static TokenBatch Batch((float[] Lp, float[] Old, float[] Adv, float[] Mask, float[] Entropy, int[] Offsets) b) => new()
    {
        LogProbs = b.Lp, OldLogProbs = b.Old, Advantages = b.Adv, Mask = b.Mask, Entropies = b.Entropy, SequenceOffsets = b.Offsets,
    };

    public static TheoryData<string> Losses() => new(PolicyLosses.Names);

    [Fact]
    public void At_ratio_one_aspo_and_ppo_gradients_agree()
    {
        var b = RandomBatch(seed: 1);
        b.Lp.AsSpan().Clear();
        b.Old.AsSpan().Clear(); // ℓ = ℓ_old ⇒ r = 1 for every token
        foreach (var mode in Aggregation.Names)
        {
            var options = new ObjectiveOptions { Aggregation = Aggregation.Parse(mode) };
            var aspo = new float[b.Lp.Length];
            var ppo = new float[b.Lp.Length];
            new PolicyObjective(PolicyLosses.Create("aspo"), options).Compute(Batch(b), aspo);
            new PolicyObjective(PolicyLosses.Create("ppo"), options).Compute(Batch(b), ppo);
            Assert.Equal(ppo, aspo);
            Assert.Contains(ppo, g => g != 0);
        }
    }

    [Fact]
    public void Aspo_positive_advantage_gradient_shrinks_as_the_ratio_grows_inside_the_clip_window()
    {
        var loss = PolicyLosses.Create("aspo_paper"); // ε = 0.2 everywhere: window [1/3, 1.2)
        const int steps = 400;
        var old = new float[steps];
        var lp = new float[steps];
        var adv = Enumerable.Repeat(1.5f, steps).ToArray();
        var mask = Enumerable.Repeat(1f, steps).ToArray();
        for (var i = 0; i < steps; i++)
        {
            var r = 1.0 / 3 + 1e-4 + (1.2 - 1.0 / 3 - 2e-4) * i / (steps - 1);
            old[i] = -1f;
            lp[i] = (float)(-1 + Math.Log(r));
        }
        var grad = new float[steps];
        new PolicyObjective(loss, new ObjectiveOptions { Aggregation = AggregationMode.SeqMeanTokenSum })
            .Compute(new TokenBatch { LogProbs = lp, OldLogProbs = old, Advantages = adv, Mask = mask, SequenceOffsets = [0, steps] }, grad);
        for (var i = 1; i < steps; i++)
            Assert.True(Math.Abs(grad[i]) < Math.Abs(grad[i - 1]), $"|g| must decrease with r: step {i}: {grad[i]} after {grad[i - 1]}");
        // and it is the flipped weight: |g| = A/r
        Assert.True(Fixture.Close(1.5 / Math.Exp(lp[0] - old[0]), -grad[0], 1e-5));
    }

    [Theory]
    [MemberData(nameof(Losses))]
    public void Every_gradient_is_zero_on_masked_tokens(string name)
    {
        var b = RandomBatch(seed: 2);
        // garbage in the padding must not leak: NaN log-probs where the mask is 0
        for (var t = 0; t < b.Mask.Length; t++)
            if (b.Mask[t] == 0)
                b.Lp[t] = float.NaN;
        foreach (var mode in Aggregation.Names)
        {
            var grad = Enumerable.Repeat(123f, b.Lp.Length).ToArray();
            var result = new PolicyObjective(PolicyLosses.Create(name), new ObjectiveOptions { Aggregation = Aggregation.Parse(mode) }).Compute(Batch(b), grad);
            for (var t = 0; t < grad.Length; t++)
                if (b.Mask[t] == 0)
                    Assert.Equal(0f, grad[t]);
            Assert.True(double.IsFinite(result.Loss), $"{name} {mode}: loss {result.Loss}");
        }
    }

    /// <summary>Splitting a mini-batch into micro-batches (each given the mini-batch's normalisers) changes neither
    /// the summed loss nor any gradient. Losses that select tokens over the batch (clip_cov, kl_cov, forking_tokens)
    /// are batch-dependent by design and left out.</summary>
    [Theory]
    [InlineData("aspo")]
    [InlineData("ppo")]
    [InlineData("dapo")]
    [InlineData("cispo")]
    [InlineData("no_is")]
    [InlineData("no_is_masked")]
    public void Aggregation_is_invariant_to_the_micro_batch_split(string name)
    {
        var b = RandomBatch(seed: 3, sequences: 12);
        foreach (var mode in Aggregation.Names)
        {
            var objective = new PolicyObjective(PolicyLosses.Create(name), new ObjectiveOptions { Aggregation = Aggregation.Parse(mode) });
            var whole = new float[b.Lp.Length];
            var wholeLoss = objective.Compute(Batch(b), whole).Loss;
            var scale = AggregationScale.Of(b.Mask, b.Offsets);

            var split = new float[b.Lp.Length];
            double splitLoss = 0;
            int[] cuts = [0, 1, 5, 6, 12]; // micro-batches of 1, 4, 1 and 6 sequences
            for (var c = 0; c + 1 < cuts.Length; c++)
            {
                int s0 = b.Offsets[cuts[c]], s1 = b.Offsets[cuts[c + 1]];
                var offsets = b.Offsets[cuts[c]..(cuts[c + 1] + 1)].Select(o => o - s0).ToArray();
                var micro = new TokenBatch
                {
                    LogProbs = b.Lp[s0..s1], OldLogProbs = b.Old[s0..s1], Advantages = b.Adv[s0..s1], Mask = b.Mask[s0..s1],
                    Entropies = b.Entropy[s0..s1], SequenceOffsets = offsets,
                };
                splitLoss += objective.Compute(micro, split.AsSpan(s0, s1 - s0), scale).Loss;
            }
            Assert.True(Fixture.Close(wholeLoss, splitLoss, 1e-9), $"{name} {mode}: {splitLoss} vs {wholeLoss}");
            Assert.Equal(whole, split);
        }
    }

    [Fact]
    public void Scalar_reference_and_span_versions_agree()
    {
        for (var seed = 10; seed < 20; seed++)
        {
            var b = RandomBatch(seed);
            var n = b.Lp.Length;
            var ratio = new float[n];
            var loss = new float[n];
            var grad = new float[n];
            foreach (var name in new[] { "ppo", "dapo", "aspo", "aspo_paper", "cispo", "no_is", "no_is_masked" })
            {
                var l = PolicyLosses.Create(name);
                var o = l.Options;
                l.TokenTerms(Batch(b), b.Mask, ratio, loss, grad, new LossCounters());
                for (var i = 0; i + 1 < b.Offsets.Length; i++)
                {
                    var q = Aspo.Algorithms.Losses.AspoLoss.EntropyQuantile(b.Entropy.AsSpan(b.Offsets[i], b.Offsets[i + 1] - b.Offsets[i]),
                        b.Mask.AsSpan(b.Offsets[i], b.Offsets[i + 1] - b.Offsets[i]), o.AspoEntropyQuantile);
                    for (var t = b.Offsets[i]; t < b.Offsets[i + 1]; t++)
                    {
                        if (b.Mask[t] == 0)
                            continue;
                        float a = b.Adv[t], r = MathF.Exp(Math.Clamp(b.Lp[t] - b.Old[t], -20f, 20f));
                        var eps = (float)(o.AspoEntropySplit && b.Entropy[t] > q ? o.AspoHighEntropyClip : o.AspoLowEntropyClip);
                        var (L, g) = name switch
                        {
                            "ppo" or "dapo" => ScalarLosses.Vanilla(a, r, true, (float)o.ClipLow, (float)o.ClipHigh, (float)o.DualClip),
                            "aspo" or "aspo_paper" => ScalarLosses.Aspo(a, r, b.Lp[t], true, eps, (float)o.DualClip),
                            "cispo" => ScalarLosses.Cispo(a, r, b.Lp[t], (float)o.ClipLow, (float)o.ClipHigh),
                            _ => ScalarLosses.NoIs(a, r, b.Lp[t], name == "no_is_masked", (float)o.ClipLow, (float)o.ClipHigh),
                        };
                        Assert.True(Fixture.Close(L, loss[t], 1e-5), $"{name} seed {seed} token {t}: loss {loss[t]} vs scalar {L} (A={a}, r={r})");
                        Assert.True(Fixture.Close(g, grad[t], 1e-5), $"{name} seed {seed} token {t}: grad {grad[t]} vs scalar {g} (A={a}, r={r})");
                    }
                }
            }
        }
    }

    [Fact]
    public void Forking_tokens_trains_on_the_top_entropy_share_only()
    {
        var b = RandomBatch(seed: 4);
        var valid = b.Mask.Count(m => m != 0);
        var selected = (float[])b.Mask.Clone();
        PolicyLosses.Create("forking_tokens").SelectTokens(Batch(b), selected);
        Assert.Equal((int)Math.Ceiling(0.2 * valid), selected.Count(m => m != 0));
        var threshold = Enumerable.Range(0, b.Mask.Length).Where(t => selected[t] != 0).Min(t => b.Entropy[t]);
        for (var t = 0; t < b.Mask.Length; t++)
            if (b.Mask[t] != 0 && selected[t] == 0)
                Assert.True(b.Entropy[t] < threshold);
    }

    [Fact]
    public void Clip_cov_detaches_the_requested_number_of_random_candidates_reproducibly()
    {
        var b = RandomBatch(seed: 5, sequences: 40);
        var options = PolicyLosses.DefaultOptions("clip_cov") with { ClipCovRatio = 0.01, ClipCovLowerBound = 0.05, Seed = 7 };
        var n = b.Lp.Length;
        float[] r = new float[n], l1 = new float[n], g1 = new float[n], l2 = new float[n], g2 = new float[n], l3 = new float[n], g3 = new float[n];
        PolicyLosses.Create("clip_cov", options).TokenTerms(Batch(b), b.Mask, r, l1, g1, new LossCounters());
        PolicyLosses.Create("clip_cov", options).TokenTerms(Batch(b), b.Mask, r, l2, g2, new LossCounters());
        PolicyLosses.Create("clip_cov", options with { Seed = 8 }).TokenTerms(Batch(b), b.Mask, r, l3, g3, new LossCounters());
        var ppo = PolicyLosses.Create("ppo", new PolicyLossOptions { DualClip = 1e9 });
        float[] lp = new float[n], gp = new float[n];
        ppo.TokenTerms(Batch(b), b.Mask, r, lp, gp, new LossCounters());

        Assert.Equal(g1, g2); // same seed, same choice
        var detached = Enumerable.Range(0, n).Where(t => b.Mask[t] != 0 && gp[t] != 0 && g1[t] == 0).ToArray();
        Assert.Equal((int)Math.Floor(0.01 * b.Mask.Count(m => m != 0)), detached.Length);
        Assert.NotEqual(detached, Enumerable.Range(0, n).Where(t => b.Mask[t] != 0 && gp[t] != 0 && g3[t] == 0).ToArray()); // another seed, another choice
    }
}
