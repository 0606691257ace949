namespace Aspo.Rewards.Tests;

public sealed class HendrycksMathTests
{
    /// <summary>Golden vectors from verl's own math_reward.compute_score run under CPython 3.11.</summary>
    [Theory]
    [InlineData("The answer is \\boxed{\\dfrac{1}{2}}.", "\\frac{1}{2}", 1)]
    [InlineData("\\boxed{\\frac12}", "\\frac{1}{2}", 1)]
    [InlineData("\\boxed{0.5}", "\\frac{1}{2}", 1)]
    [InlineData("\\boxed{1/2}", "\\frac{1}{2}", 1)]
    [InlineData("\\boxed{x = 5}", "5", 1)]
    [InlineData("\\boxed{5 \\text{ cm}}", "5", 1)]
    [InlineData("\\boxed{90^\\circ}", "90", 1)]
    [InlineData("\\boxed{\\left( 1, 2 \\right)}", "(1,2)", 1)]
    [InlineData("\\boxed{10\\%}", "10", 1)]
    [InlineData("\\boxed{\\$5}", "5", 1)]
    [InlineData("\\boxed{\\sqrt3}", "\\sqrt{3}", 1)]
    [InlineData("\\boxed{.5}", "0.5", 1)]
    [InlineData("first \\boxed{3} then \\boxed{4}", "4", 1)]
    [InlineData("\\boxed 7$ done", "7", 1)]
    [InlineData("\\boxed{1,000}", "1000", 0)]
    [InlineData("\\boxed{5.}", "5", 0)]
    [InlineData("\\boxed{\\text{(A)}}", "A", 0)]
    [InlineData("\\fbox{7}", "7", 0)]
    [InlineData("no box 7", "7", 0)]
    [InlineData("\\boxed{\\frac{a}{b}", "x", 0)]
    public void Matches_verl_math_reward(string response, string groundTruth, double expected) =>
        Assert.Equal(expected, HendrycksMath.Score(response, groundTruth));

    [Fact]
    public void Normalisation_raising_in_python_falls_back_to_raw_equality()
    {
        // "\sqrt" at the end: Python's fix_sqrt indexes an empty string → raw comparison
        Assert.True(HendrycksMath.IsEquivalent("2\\sqrt", "2\\sqrt"));
        Assert.False(HendrycksMath.IsEquivalent("2\\sqrt", "2 \\sqrt"));
        // two "\text{ " units: remove_right_units asserts
        Assert.True(HendrycksMath.IsEquivalent("5\\text{ cm}\\text{ m}", "5\\text{ cm}\\text{ m}"));
    }

    [Theory]
    [InlineData("\\boxed{1,000}", "1000", 1)]
    [InlineData("\\boxed{\\frac{6}{8}}", "0.75", 1)]
    [InlineData("\\boxed{75\\%}", "\\frac{3}{4}", 1)]
    [InlineData("\\boxed{x = -2/4}", "-0.5", 1)]
    [InlineData("\\boxed{5.}", "5", 0)]
    [InlineData("\\boxed{\\pi}", "3.14159", 0)]
    public void Numeric_fallback_is_a_separate_component(string response, string groundTruth, double numeric)
    {
        var verdict = MathVerifier.Verify(response, groundTruth);
        Assert.Equal(numeric, verdict.Components["numeric"]);
        Assert.Equal(HendrycksMath.Score(response, groundTruth), verdict.Score); // the score stays verl's
    }

    [Fact]
    public void Think_stripping_requires_the_closing_tag()
    {
        Assert.Equal(0, MathVerifier.Verify("<think>\\boxed{4}", "4", requireThinkClose: true).Score);
        Assert.Equal(1, MathVerifier.Verify("<think>maybe \\boxed{3}</think> so \\boxed{4}", "4", requireThinkClose: true).Score);
        Assert.Equal(0, MathVerifier.Verify("<think>\\boxed{4}</think> no box", "4", requireThinkClose: true).Score);
    }

    /// <summary>10,000 random and adversarial strings: no exception and a score in [0, 1] (speed: tools/bench/run rewards).</summary>
    [Fact]
    public void Fuzz_never_throws()
    {
        var rng = new Random(17);
        string[] pieces = ["\\boxed", "\\boxed ", "{", "}", "\\frac", "\\sqrt", "\\text{ ", "=", "/", "$", "\\%", ".", "0.5", "1", "-", "\\left", "\\fbox", " ", "\n", "\\\\", "x", "12,345"];
        var inputs = new List<(string, string)>
        {
            (new string('{', 100_000) + "\\boxed{" + new string('}', 100_000), "1"),
            ("\\boxed{" + new string('{', 500_000), "x"),
            (string.Concat(Enumerable.Repeat("\\boxed{1}", 100_000)), "1"),
            (new string('a', 1_000_000), "a"),
            ("\\boxed{" + string.Concat(Enumerable.Repeat("\\frac", 50_000)) + "}", "1"),
            ("\\boxed{" + new string('9', 10_000) + "/" + new string('9', 10_000) + "}", "1"),
        };
        for (var i = inputs.Count; i < 10_000; i++)
        {
            var n = rng.Next(0, 30);
            var s = string.Concat(Enumerable.Range(0, n).Select(_ => rng.Next(3) == 0 ? ((char)rng.Next(32, 0x3000)).ToString() : pieces[rng.Next(pieces.Length)]));
            inputs.Add((s, rng.Next(2) == 0 ? s : pieces[rng.Next(pieces.Length)]));
        }
        foreach (var (response, truth) in inputs)
        {
            var verdict = MathVerifier.Verify(response, truth);
            Assert.InRange(verdict.Score, 0, 1);
        }
    }
}
