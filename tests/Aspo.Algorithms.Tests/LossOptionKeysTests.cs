namespace Aspo.Algorithms.Tests;

/// <summary>
/// <see cref="PolicyLosses.OptionKeys"/> is what the config uses to refuse options a loss ignores, so it must be
/// exactly what each loss reads: on a batch with ratios and entropies spread wide, changing a listed option changes
/// the loss or its gradient, and changing any other option changes neither.
/// </summary>
public sealed class LossOptionKeysTests
{
    private static readonly Dictionary<string, Func<PolicyLossOptions, PolicyLossOptions>> Changes = new()
    {
        ["clip_low"] = o => o with { ClipLow = o.ClipLow > 0.5 ? 0.3 : 0.05 },
        ["clip_high"] = o => o with { ClipHigh = 0.6 },
        ["dual_clip"] = o => o with { DualClip = 1.3 },
        ["aspo_entropy_split"] = o => o with { AspoEntropySplit = !o.AspoEntropySplit },
        ["aspo_low_entropy_clip"] = o => o with { AspoLowEntropyClip = 0.05 },
        ["aspo_high_entropy_clip"] = o => o with { AspoHighEntropyClip = 0.05 },
        ["aspo_entropy_quantile"] = o => o with { AspoEntropyQuantile = 0.3 },
        ["entropy_top_ratio"] = o => o with { EntropyTopRatio = 0.7 },
        ["clip_cov_ratio"] = o => o with { ClipCovRatio = 0.3 },
        ["clip_cov_lower_bound"] = o => o with { ClipCovLowerBound = -10 },
        ["clip_cov_upper_bound"] = o => o with { ClipCovUpperBound = 1.05 },
        ["kl_cov_ratio"] = o => o with { KlCovRatio = 0.3 },
        ["kl_cov_coefficient"] = o => o with { KlCovCoefficient = 3.0 },
    };

    public static TheoryData<string> Losses() => new(PolicyLosses.Names);

    [Theory]
    [MemberData(nameof(Losses))]
    public void A_loss_reacts_to_exactly_its_listed_options(string loss)
    {
        var defaults = PolicyLosses.DefaultOptions(loss);
        var baseline = Evaluate(loss, defaults);
        var listed = PolicyLosses.OptionKeys(loss);
        Assert.Empty(listed.Except(Changes.Keys)); // every listed key is one this test knows how to change
        foreach (var (key, change) in Changes)
        {
            var changed = Evaluate(loss, change(defaults));
            var differs = changed.Loss != baseline.Loss || !changed.Gradient.SequenceEqual(baseline.Gradient);
            if (loss == "aspo_paper" && key == "aspo_entropy_split")
                continue; // the paper's variant is aspo without the split: turning it on would make it aspo, so it is not offered
            Assert.True(differs == listed.Contains(key),
                $"{loss}: changing {key} {(differs ? "changed" : "did not change")} the loss, but OptionKeys {(listed.Contains(key) ? "lists" : "does not list")} it");
        }
    }

    private static (double Loss, float[] Gradient) Evaluate(string loss, PolicyLossOptions options)
    {
        const int sequences = 6, length = 40, n = sequences * length;
        var rng = new Random(11);
        var logProbs = new float[n];
        var old = new float[n];
        var advantages = new float[n];
        var entropies = new float[n];
        var mask = new float[n];
        for (var t = 0; t < n; t++)
        {
            logProbs[t] = (float)(-3 * rng.NextDouble());
            old[t] = logProbs[t] + (float)(2.4 * (rng.NextDouble() - 0.5)); // ratios from e^-1.2 to e^1.2
            advantages[t] = (t / length) % 2 == 0 ? 1f : -1f;
            entropies[t] = (float)(3 * rng.NextDouble());
            mask[t] = 1;
        }
        var offsets = Enumerable.Range(0, sequences + 1).Select(i => i * length).ToArray();
        var gradient = new float[n];
        var result = new PolicyObjective(PolicyLosses.Create(loss, options)).Compute(new TokenBatch
        {
            LogProbs = logProbs, OldLogProbs = old, Advantages = advantages, Mask = mask, SequenceOffsets = offsets, Entropies = entropies,
        }, gradient);
        return (result.Loss, gradient);
    }
}
