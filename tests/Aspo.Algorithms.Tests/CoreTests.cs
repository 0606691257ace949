namespace Aspo.Algorithms.Tests;

public sealed class CoreTests
{
    [Fact]
    public void Unknown_names_fail_listing_the_valid_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => PolicyLosses.Create("asp0"));
        Assert.Contains("unknown policy loss 'asp0'; valid losses: aspo, aspo_paper, ppo, grpo, dapo, cispo, no_is, no_is_masked, clip_cov, kl_cov, forking_tokens", e.Message);
        e = Assert.Throws<ArgumentException>(() => Aggregation.Parse("mean"));
        Assert.Contains("valid modes: token-mean, seq-mean-token-mean, seq-mean-token-sum, seq-mean-token-sum-norm", e.Message);
        e = Assert.Throws<ArgumentException>(() => KlEstimators.Canonical("k4"));
        Assert.Contains("valid estimators: k1, abs, k2, k3, k1+, abs+, k2+, k3+", e.Message);
        e = Assert.Throws<ArgumentException>(() => AdvantageEstimators.Compute("gae", [1f], [0L], new float[1]));
        Assert.Contains("valid estimators: grpo, dr_grpo, rloo", e.Message);
        Assert.Throws<ArgumentException>(() => new PolicyObjective(PolicyLosses.Create("ppo"), new ObjectiveOptions { KlEstimator = "kl3" }));
    }

    [Fact]
    public void Verl_kl_aliases_are_accepted()
    {
        Assert.Equal("k3", KlEstimators.Canonical("low_var_kl"));
        Assert.Equal("k2", KlEstimators.Canonical("mse"));
        Assert.Equal("k1+", KlEstimators.Canonical("kl+"));
    }

    [Theory]
    [InlineData(-0.1, 0.2, 3.0, "clip_low")]
    [InlineData(0.2, 0.2, 1.0, "dual_clip must be > 1")]
    public void Invalid_options_are_rejected_with_the_setting_named(double low, double high, double c, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => PolicyLosses.Create("ppo", new PolicyLossOptions { ClipLow = low, ClipHigh = high, DualClip = c }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Defaults_follow_the_reference_code()
    {
        var aspo = PolicyLosses.DefaultOptions("aspo");
        Assert.True(aspo.AspoEntropySplit);
        Assert.Equal((0.2, 0.4, 0.8, 3.0), (aspo.AspoLowEntropyClip, aspo.AspoHighEntropyClip, aspo.AspoEntropyQuantile, aspo.DualClip));
        Assert.False(PolicyLosses.DefaultOptions("aspo_paper").AspoEntropySplit);
        var dapo = PolicyLosses.DefaultOptions("dapo");
        Assert.Equal((0.2, 0.28, 10.0), (dapo.ClipLow, dapo.ClipHigh, dapo.DualClip));
        var ppo = PolicyLosses.DefaultOptions("ppo");
        Assert.Equal((0.2, 0.2, 3.0), (ppo.ClipLow, ppo.ClipHigh, ppo.DualClip));
    }

    [Fact]
    public void Bad_batches_get_one_message_naming_the_span()
    {
        var objective = new PolicyObjective(PolicyLosses.Create("ppo"));
        var e = Assert.Throws<ArgumentException>(() => objective.Compute(
            new TokenBatch { LogProbs = new float[4], OldLogProbs = new float[3], Advantages = new float[4], Mask = new float[4], SequenceOffsets = [0, 4] }, new float[4]));
        Assert.Contains("OldLogProbs has 3 tokens, LogProbs has 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => objective.Compute(
            new TokenBatch { LogProbs = new float[4], OldLogProbs = new float[4], Advantages = new float[4], Mask = new float[4], SequenceOffsets = [0, 3] }, new float[4]));
        Assert.Contains("SequenceOffsets must start at 0 and end at the token count 4", e.Message);
        e = Assert.Throws<ArgumentException>(() => new PolicyObjective(PolicyLosses.Create("aspo")).Compute(
            new TokenBatch { LogProbs = new float[4], OldLogProbs = new float[4], Advantages = new float[4], Mask = new float[4], SequenceOffsets = [0, 4] }, new float[4]));
        Assert.Contains("'aspo' needs per-token entropies", e.Message);
        e = Assert.Throws<ArgumentException>(() => new PolicyObjective(PolicyLosses.Create("ppo"), new ObjectiveOptions { KlCoefficient = 0.001 }).Compute(
            new TokenBatch { LogProbs = new float[4], OldLogProbs = new float[4], Advantages = new float[4], Mask = new float[4], SequenceOffsets = [0, 4] }, new float[4]));
        Assert.Contains("needs reference log-probs", e.Message);
    }

    [Fact]
    public void Empty_batch_and_fully_masked_batch_give_zero_loss()
    {
        var objective = new PolicyObjective(PolicyLosses.Create("ppo"));
        var r = objective.Compute(new TokenBatch { LogProbs = [], OldLogProbs = [], Advantages = [], Mask = [], SequenceOffsets = [0] }, []);
        Assert.Equal(0, r.Loss);
        var grad = new float[3];
        r = objective.Compute(new TokenBatch { LogProbs = [-1, -2, -3], OldLogProbs = [-1, -1, -1], Advantages = [1, 1, 1], Mask = [0, 0, 0], SequenceOffsets = [0, 3] }, grad);
        Assert.Equal(0, r.Loss);
        Assert.Equal([0f, 0f, 0f], grad);
    }

    /// <summary>Expected values counted by hand from the definition (distinct/all n-grams).</summary>
    [Theory]
    [InlineData("a b c d", 2, 0.0)]            // ab bc cd: all distinct
    [InlineData("a b a b a b", 2, 0.6)]        // ab ba ab ba ab: 2 distinct of 5
    [InlineData("x x x x", 1, 0.75)]           // 1 distinct of 4
    [InlineData("one two", 3, 0.0)]            // fewer words than n
    [InlineData("  a\tb\n a  b ", 2, 1.0 / 3)] // whitespace of any kind separates: ab ba ab
    public void Repetition_ratio_counts_repeated_word_ngrams(string text, int n, double expected) =>
        Assert.Equal(expected, Diagnostics.RepetitionRatio(text, n), 12);

    [Fact]
    public void Repetition_ratio_uses_20_grams_by_default()
    {
        // period 15, 30 words: 11 20-grams, starting at 0..10, each fixed by its start mod 15, so all distinct
        var words = Enumerable.Range(0, 30).Select(i => $"w{i % 15}").ToArray();
        Assert.Equal(0.0, Diagnostics.RepetitionRatio(string.Join(' ', words)));
        var looping = string.Join(' ', Enumerable.Range(0, 60).Select(i => $"w{i % 10}")); // period 10: 41 20-grams, 10 distinct
        Assert.Equal(1 - 10.0 / 41, Diagnostics.RepetitionRatio(looping), 12);
    }

    [Fact]
    public void Group_filter_drops_groups_with_equal_scores_but_keeps_singletons()
    {
        float[] scores = [1, 1, 1, 0, 0, 0, 1, 0, 0.5f];
        long[] groups = [7, 7, 7, 8, 8, 8, 9, 9, 10];
        var keep = new bool[scores.Length];
        var result = GroupFilter.FilterUninformativeGroups(scores, groups, keep);
        Assert.Equal(new GroupFilterResult(Groups: 4, Dropped: 2, SolvedAll: 1, SolvedNone: 1), result);
        Assert.Equal([false, false, false, false, false, false, true, true, true], keep);
    }

    [Fact]
    public void Advantages_broadcast_under_the_mask()
    {
        float[] mask = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0];
        int[] offsets = [0, 4, 8, 10];
        var tokenAdvantages = new float[10];
        AdvantageEstimators.BroadcastToTokens([0.5f, -1f, 9f], offsets, mask, tokenAdvantages);
        Assert.Equal([0.5f, 0.5f, 0.5f, 0, -1, -1, 0, 0, 0, 0], tokenAdvantages);
    }

    [Fact]
    public void Grpo_single_member_and_constant_groups()
    {
        var a = new float[4];
        AdvantageEstimators.Compute("grpo", [3f, 1f, 1f, 1f], [0, 1, 1, 1], a);
        Assert.Equal(3 / (1 + 1e-6), a[0], 6);            // mean 0, std 1
        Assert.Equal([0f, 0f, 0f], a[1..]);                 // all equal: no signal
    }

    [Fact]
    public void Rollout_correction_truncates_or_masks_at_the_threshold()
    {
        float[] old = [0, 0, 0, 0];
        float[] roll = [0, (float)-Math.Log(3), (float)Math.Log(2), 0]; // token weights 1, 3, 0.5, 1
        float[] mask = [1, 1, 1, 0];
        int[] offsets = [0, 4];
        var w = new float[4];
        var stats = RolloutCorrection.ComputeWeights(new RolloutCorrectionOptions { Level = RolloutCorrectionLevel.Token, Threshold = 2 }, old, roll, mask, offsets, w);
        Assert.Equal([1f, 2f, 0.5f, 0f], w.Select(x => MathF.Round(x, 5)));
        Assert.Equal(1.5, stats.Mean, 5);
        Assert.Equal(1.0 / 3, stats.FractionAboveThreshold, 12);
        RolloutCorrection.ComputeWeights(new RolloutCorrectionOptions { Level = RolloutCorrectionLevel.Token, Mode = RolloutCorrectionMode.Mask, Threshold = 2 }, old, roll, mask, offsets, w);
        Assert.Equal([1f, 0f, 0.5f, 0f], w.Select(x => MathF.Round(x, 5)));
        RolloutCorrection.ComputeWeights(new RolloutCorrectionOptions { Level = RolloutCorrectionLevel.Sequence, Threshold = 10 }, old, roll, mask, offsets, w);
        Assert.Equal([1.5f, 1.5f, 1.5f, 0f], w.Select(x => MathF.Round(x, 5))); // exp(log 3 − log 2), masked token excluded
    }

    [Fact]
    public void Metric_names_match_the_approved_list()
    {
        var approved = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Approved", "metric_names.txt"));
        Assert.Equal(approved, MetricNames.All);
    }

    [Fact]
    public void Objective_reports_the_documented_metrics()
    {
        var b = PropertyTests.RandomBatch(seed: 9);
        var batch = new TokenBatch { LogProbs = b.Lp, OldLogProbs = b.Old, Advantages = b.Adv, Mask = b.Mask, Entropies = b.Entropy, SequenceOffsets = b.Offsets, RefLogProbs = b.Old };
        var aspo = new PolicyObjective(PolicyLosses.Create("aspo"), new ObjectiveOptions { KlCoefficient = 0.001 }).Compute(batch, new float[b.Lp.Length]);
        Assert.Superset(new HashSet<string> { MetricNames.PgLoss, MetricNames.PgClipFrac, MetricNames.PgClipFracLower, MetricNames.PgClipFracUpper,
            MetricNames.NegativePgClipFracDual, MetricNames.PositivePgClipFracDual, MetricNames.PpoKl, MetricNames.Entropy, MetricNames.KlLoss,
            MetricNames.KlCoef, MetricNames.IsWeightPositiveMean, MetricNames.IsWeightNegativeMean }, aspo.Metrics.Keys.ToHashSet());
        Assert.All(aspo.Metrics.Values, v => Assert.True(double.IsFinite(v)));
        Assert.InRange(aspo.Metrics[MetricNames.PgClipFrac], 0.01, 0.99); // the random ratios reach both clip regions
    }
}
