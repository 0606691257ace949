using Aspo.Tests.Shared;

namespace Aspo.Rewards.Tests;

public sealed class EvalMetricsTests
{
    [Fact]
    public void Pass_at_k_equals_exact_enumeration_for_every_n_c_k_up_to_12()
    {
        for (var n = 1; n <= 12; n++)
        for (var c = 0; c <= n; c++)
        for (var k = 1; k <= n; k++)
            Assert.True(Math.Abs(EvalMetrics.PassAtK(n, c, k) - PassAtKEnumeration.Exact(n, c, k)) < 1e-12, $"n={n} c={c} k={k}");
    }

    [Fact]
    public void Pass_at_k_stays_finite_for_large_n_and_rejects_impossible_arguments()
    {
        // C(2048, 1024) ≈ 1e615 overflows a double; the product form does not. 1 correct of n: pass@k = k/n exactly.
        Assert.Equal(0.5, EvalMetrics.PassAtK(2048, 1, 1024), 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => EvalMetrics.PassAtK(4, 5, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => EvalMetrics.PassAtK(4, 1, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => EvalMetrics.PassAtK(4, 1, 0));
    }

    [Fact]
    public void Summaries_average_over_prompts_per_data_source_and_overall()
    {
        // source a: prompt p1 2/4 correct, p2 0/4; source b: p3 4/4 correct
        var samples = new List<GradedSample>();
        void Add(string source, string uid, int correct, int n)
        {
            for (var i = 0; i < n; i++)
                samples.Add(new GradedSample(source, uid, i, i < correct ? 1 : -1, i < correct, null, 10 * (i + 1), i == 0));
        }
        Add("a", "p1", 2, 4);
        Add("a", "p2", 0, 4);
        Add("b", "p3", 4, 4);
        var ks = EvalMetrics.DefaultKs(4);
        Assert.Equal([1, 2, 4], ks);
        var summaries = EvalMetrics.Summarize(samples, ks);
        Assert.Equal(["a", "b", "all"], summaries.Select(s => s.DataSource));
        var a = summaries[0];
        Assert.Equal((2, 8), (a.Prompts, a.Samples));
        Assert.Equal(0.25, a.AvgAtN, 12);
        Assert.Equal(-0.5, a.MeanScore, 12);
        foreach (var (k, pass) in a.PassAtK)
            Assert.Equal((PassAtKEnumeration.Exact(4, 2, k) + PassAtKEnumeration.Exact(4, 0, k)) / 2, pass, 12);
        var all = summaries[2];
        Assert.Equal(0.5, all.AvgAtN, 12);
        foreach (var (k, pass) in all.PassAtK)
            Assert.Equal((PassAtKEnumeration.Exact(4, 2, k) + PassAtKEnumeration.Exact(4, 0, k) + 1) / 3, pass, 12);
        Assert.Equal([1, 2, 4, 6], EvalMetrics.DefaultKs(6));
        // lengths 10, 20, 30, 40 per prompt; the first sample of each is truncated; no answers → maj@k n/a
        Assert.Equal(25, all.MeanResponseLength, 12);
        Assert.Equal(0.25, all.TruncationRate, 12);
        Assert.Null(all.MajAtK);
    }

    private static GradedSample Voted(string uid, int index, string? answer, bool correct) => new("m", uid, index, correct ? 1 : 0, correct, answer, 5, false);

    [Fact]
    public void Majority_vote_takes_the_most_frequent_answer_of_the_first_k_samples()
    {
        var samples = new List<GradedSample>
        {
            // p1: "7" twice (correct) beats "3"; the sample without an answer does not vote
            Voted("p1", 0, "7", true), Voted("p1", 1, "3", false), Voted("p1", 2, "7", true), Voted("p1", 3, null, false),
            // p2: a 2–2 tie goes to the answer seen first ("1", wrong)
            Voted("p2", 3, "1", false), Voted("p2", 0, "1", false), Voted("p2", 1, "2", true), Voted("p2", 2, "2", true),
            // p3: no answers at all: counts as wrong
            Voted("p3", 0, null, false), Voted("p3", 1, null, false), Voted("p3", 2, null, false), Voted("p3", 3, null, false),
        };
        var all = EvalMetrics.Summarize(samples, [1, 2, 4])[^1];
        Assert.Equal(4, all.MajK);
        Assert.Equal(1.0 / 3.0, all.MajAtK!.Value, 12);
        // only the first k samples vote: with k = 2, "a" and "b" tie and "a" (wrong) wins; with k = 4, "c" wins
        var late = new List<GradedSample> { Voted("q", 0, "a", false), Voted("q", 1, "b", false), Voted("q", 2, "c", true), Voted("q", 3, "c", true) };
        Assert.Equal(0.0, EvalMetrics.Summarize(late, [1, 2])[^1].MajAtK!.Value, 12);
        Assert.Equal(1.0, EvalMetrics.Summarize(late, [1, 2, 4])[^1].MajAtK!.Value, 12);
    }

    [Fact]
    public void Summaries_reject_prompts_with_too_few_samples_and_empty_input()
    {
        var samples = new[] { Voted("p1", 0, "1", true), Voted("p2", 0, "1", true), Voted("p2", 1, "2", false) };
        var e = Assert.Throws<ArgumentException>(() => EvalMetrics.Summarize(samples, [2]));
        Assert.Contains("prompt p1 has 1 samples, fewer than k = 2", e.Message);
        Assert.Throws<ArgumentException>(() => EvalMetrics.Summarize([], [1]));
    }

    [Fact]
    public void Correctness_uses_the_acc_component_when_present()
    {
        Assert.False(EvalMetrics.IsCorrect(DapoMath.Score("\\boxed{3}", "3")));  // −1, acc 0
        Assert.True(EvalMetrics.IsCorrect(DapoMath.Score("Answer: 3", "3")));    // +1, acc 1
        Assert.True(EvalMetrics.IsCorrect(MathVerifier.Verify("\\boxed{3}", "3"))); // 1, no acc component
        Assert.False(EvalMetrics.IsCorrect(MathVerifier.Verify("\\boxed{4}", "3")));
    }
}
