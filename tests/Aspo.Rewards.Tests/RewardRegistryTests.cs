namespace Aspo.Rewards.Tests;

public sealed class RewardRegistryTests
{
    [Theory]
    [InlineData("lighteval/MATH")]
    [InlineData("DigitalLearningGmbH/MATH-lighteval")]
    [InlineData("HuggingFaceH4/MATH-500")]
    [InlineData("hendrycks_math")]
    public void Hendrycks_sources_use_the_verl_math_reward_grader(string source)
    {
        var registry = RewardRegistry.CreateDefault();
        // verl math_reward.compute_score (formats.md D.7): 0.5 ≡ \frac{1}{2} → 1; "1,000" vs "1000" → 0
        Assert.Equal(1.0, registry.Score(source, @"so \boxed{0.5}", @"\frac{1}{2}").Score);
        var thousands = registry.Score(source, @"\boxed{1,000}", "1000");
        Assert.Equal(0.0, thousands.Score);
        Assert.Equal(1.0, thousands.Components["numeric"]); // the exact-rational component: 1,000 = 1000
    }

    [Fact]
    public void An_unknown_data_source_fails_naming_it_and_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => RewardRegistry.CreateDefault().Score("openai/gsm9k", "x", "y"));
        Assert.Contains("'openai/gsm9k'", e.Message);
        Assert.Contains("HuggingFaceH4/MATH-500", e.Message);
        Assert.Contains("lighteval/MATH", e.Message);
    }

    [Fact]
    public void Registering_a_data_source_twice_is_an_error_and_user_graders_are_dispatched()
    {
        var registry = RewardRegistry.CreateDefault();
        Assert.Throws<ArgumentException>(() => registry.Register("lighteval/MATH", (_, _) => new RewardResult(0, new Dictionary<string, double>())));
        registry.Register("echo", (r, t) => new RewardResult(r == t ? 1 : 0, new Dictionary<string, double> { ["len"] = r.Length }));
        Assert.Equal(1.0, registry.Score("echo", "ab", "ab").Score);
        Assert.Equal(2.0, registry.Score("echo", "ab", "cd").Components["len"]);
        Assert.Contains("echo", registry.DataSources);
    }

    [Fact]
    public void Require_think_close_grades_only_the_text_after_the_reasoning()
    {
        var registry = RewardRegistry.CreateDefault(requireThinkClose: true);
        Assert.Equal(1.0, registry.Score("lighteval/MATH", @"<think>maybe \boxed{3}</think> \boxed{4}", "4").Score);
        Assert.Equal(0.0, registry.Score("lighteval/MATH", @"<think>maybe \boxed{3}</think> \boxed{4}", "3").Score);
        Assert.Equal(0.0, registry.Score("lighteval/MATH", @"never closed \boxed{4}", "4").Score);
    }

    [Fact]
    public void Answers_for_majority_voting_are_normalised_by_the_grader()
    {
        var registry = RewardRegistry.CreateDefault();
        // Hendrycks normalisation: 0.5 and \frac12 are one vote; math_dapo: the normalised "Answer:" line; none → null
        Assert.Equal(registry.Score("hendrycks_math", @"\boxed{0.5}", "1").Answer, registry.Score("hendrycks_math", @"\boxed{\frac12}", "1").Answer);
        Assert.Null(registry.Score("hendrycks_math", "no box", "1").Answer);
        Assert.Equal("42", registry.Score("math_dapo", "so\nAnswer: $42$", "42").Answer);
        Assert.Null(registry.Score("math_dapo", "no answer line", "42").Answer);
    }

    [Fact]
    public void The_synthetic_arithmetic_sources_grade_the_last_box()
    {
        var registry = RewardRegistry.CreateDefault();
        const string Solution = "12 + 7 = 19\n19 * 3 = 57\nThe answer is \\boxed{57}.";
        Assert.Equal(1.0, registry.Score("arith/L3", Solution, "57").Score);
        Assert.Equal(0.0, registry.Score("arith/L5", Solution, "58").Score);
        Assert.Equal(0.0, registry.Score("arith/L1", "57", "57").Score); // no box, no credit
        Assert.Contains("arith/*", registry.DataSources);
    }

    /// <summary>verl gsm8k.py: strict "#### N" (last match, commas and $ dropped, exact string compare), flexible last number.</summary>
    [Theory]
    [InlineData("so the total is\n#### 72", "72", 1.0)]
    [InlineData("#### 1,000", "1000", 1.0)]
    [InlineData("#### 5 then #### 7", "7", 1.0)]
    [InlineData("#### 72.0", "72", 0.0)]        // exact text, no numeric equivalence
    [InlineData("The answer is 72", "72", 0.0)] // strict needs "#### "
    [InlineData("####72", "72", 0.0)]
    [InlineData("#### -3", "-3", 1.0)]
    public void Gsm8k_strict_follows_verl(string response, string truth, double score) =>
        Assert.Equal(score, RewardRegistry.CreateDefault().Score("openai/gsm8k", response, truth).Score);

    [Fact]
    public void Gsm8k_sees_only_the_last_300_characters_and_flexible_takes_the_last_number()
    {
        var early = "#### 72" + new string('x', 300);
        Assert.Equal(0.0, Gsm8k.Score(early, "72").Score);
        Assert.Equal("12", Gsm8k.ExtractSolution("a 5 then 12 .", flexible: true));
        Assert.Equal(".", Gsm8k.ExtractSolution("only . here", flexible: true)); // nothing valid: the reference keeps the earliest
        Assert.Null(Gsm8k.ExtractSolution("no digits", flexible: true));
    }
}
