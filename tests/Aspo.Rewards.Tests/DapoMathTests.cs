namespace Aspo.Rewards.Tests;

public sealed class DapoMathTests
{
    /// <summary>verl math_dapo.normalize_final_answer run under CPython 3.11.</summary>
    [Theory]
    [InlineData("\\frac12", "\\frac{1}{2}")]
    [InlineData("x = \\dfrac{3}{4}", "\\dfrac{3}{4}")]
    [InlineData("10\\%", "10\\%")]
    [InlineData("1,000", "1000")]
    [InlineData("\\$5.00", "5.00")]
    [InlineData("5 \\text{ cm}", "5")]
    [InlineData("90^\\circ", "90")]
    [InlineData("\\text{(A)}", "(A)")]
    [InlineData("an apple", "apple")]
    [InlineData("a 3", "3")]
    [InlineData("$\\boxed{42}$", "42")]
    [InlineData("0.5", "0.5")]
    [InlineData("\\sqrt2", "\\sqrt{2}")]
    [InlineData("\\left(1,2\\right)", "\\left(1,2\\right)")]
    [InlineData("5 dollars", "5")]
    public void Normalisation_matches_verl(string answer, string expected) =>
        Assert.Equal(expected, DapoMath.NormalizeFinalAnswer(answer));

    /// <summary>
    /// The scanners against CPython 3.11's re.sub with the reference patterns (python3 -c 'import re; print(repr(re.sub(…)))'):
    /// '.' stops at a newline, [^{] does not, a lazy group ends at the first '}', a greedy one at the line's last, code points count once.
    /// </summary>
    [Theory]
    [InlineData("frac", "\\frac1", "\\frac1")]
    [InlineData("frac", "\\frac{1}2", "\\frac{1}2")]
    [InlineData("frac", "\\frac\U0001d4652", "\\frac{\U0001d465}{2}")]
    [InlineData("frac", "\\frac1\n2", "\\frac1\n2")]
    [InlineData("frac", "\\frac\n12", "\\frac{\n}{1}2")]
    [InlineData("sqrt", "sqrt", "sqrt")]
    [InlineData("sqrt", "sqrt\U0001d465", "sqrt{\U0001d465}")]
    [InlineData("dollar", "a$b$c$d$e\nx$y", "$b$\nx$y")]
    [InlineData("text", "\\text{a}\\text{b}", "ab")]
    [InlineData("text", "\\text{a\n}b}", "\\text{a\n}b}")]
    [InlineData("boxed", "\\boxed{a}b}\n}", "a}b\n}")]
    public void Scanners_match_python_re_sub(string step, string input, string expected)
    {
        var actual = step switch
        {
            "frac" => DapoMath.BraceArguments(input, "frac", 2),
            "sqrt" => DapoMath.BraceArguments(input, "sqrt", 1),
            "dollar" => DapoMath.KeepFirstDollarSpan(input),
            "text" => DapoMath.Unwrap(input, "\\text{", greedy: false),
            _ => DapoMath.Unwrap(input, "\\boxed{", greedy: true),
        };
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Minerva_mode_grades_the_last_answer_line_and_scores_plus_or_minus_one()
    {
        var right = DapoMath.Score("Let me think.\nAnswer: 1,000 dollars", "1000");
        Assert.Equal(1, right.Score);
        Assert.Equal(1, right.Components["acc"]);
        Assert.Equal(1, DapoMath.Score("answer: 3\nwait, ANSWER : \\frac12", "\\frac{1}{2}").Score); // last line wins, any case
        Assert.Equal(-1, DapoMath.Score("answer: 3\nANSWER: 4", "3").Score);
        // a boxed answer without an "Answer:" line is wrong in this mode (verified-run, formats.md D.3)
        var boxed = DapoMath.Score("so \\boxed{42}", "42");
        Assert.Equal(-1, boxed.Score);
        Assert.Equal(0, boxed.Components["acc"]);
        // only the last 300 characters are read: an answer line further back is not seen
        Assert.Equal(-1, DapoMath.Score("Answer: 7\n" + new string('.', 300), "7").Score);
        Assert.Equal(1, DapoMath.Score("Answer: 7\n" + new string('.', 280), "7").Score);
        // 300 code points, not UTF-16 units: 200 astral characters are 400 units but only 200 characters
        Assert.Equal(1, DapoMath.Score("Answer: 7\n" + string.Concat(Enumerable.Repeat("𝑥", 200)), "7").Score);
    }

    [Fact]
    public void Strict_box_mode_compares_the_last_box_of_the_last_100_characters_with_the_raw_ground_truth()
    {
        Assert.Equal(1, DapoMath.Score("so \\boxed{\\frac{1}{2}}", "\\frac{1}{2}", strictBox: true).Score);
        Assert.Equal(-1, DapoMath.Score("so \\boxed{\\frac12}", "\\frac{1}{2}", strictBox: true).Score); // no normalisation
        Assert.Equal(-1, DapoMath.Score("\\boxed{5}" + new string(' ', 100), "5", strictBox: true).Score);
        Assert.Equal(-1, DapoMath.Score("\\fbox{5}", "5", strictBox: true).Score);
        Assert.Equal(-1, DapoMath.Score("\\boxed{5", "5", strictBox: true).Score);
    }

    [Fact]
    public void Registry_routes_the_dapo_sources_and_aime_prefix_to_math_dapo()
    {
        var registry = RewardRegistry.CreateDefault();
        foreach (var source in new[] { "math_dapo", "math", "math_dapo_reasoning", "aime24", "aime_2025" })
        {
            Assert.Equal(1, registry.Score(source, "Answer: 12", "12").Score);
            Assert.Equal(-1, registry.Score(source, "\\boxed{12}", "12").Score);
        }
        Assert.Contains("aime*", registry.DataSources);
    }

    /// <summary>Adversarial and random inputs on both sides: no exception, a score of ±1 (speed: tools/bench/run rewards).</summary>
    [Fact]
    public void Fuzz_never_throws()
    {
        var rng = new Random(23);
        string[] pieces = ["Answer:", "answer :", "\\boxed{", "{", "}", "$", "\\text{", "\\textbf{", "\\overline{", "frac", "sqrt", "=", ",", " ", "\n", "a ", "an ", "1", "x", "𝑥"];
        var inputs = new List<(string, string)>
        {
            ("Answer: " + new string('$', 1_000_000), new string('$', 1_000_000)),
            ("Answer:" + new string(' ', 1_000_000), string.Concat(Enumerable.Repeat("\\text{", 100_000))),
            (new string('{', 500_000), string.Concat(Enumerable.Repeat("\\boxed{", 100_000)) + new string('}', 100_000)),
            ("x", string.Concat(Enumerable.Repeat("fracsqrt", 100_000))),
            ("x", string.Concat(Enumerable.Repeat("$a$b", 200_000))),
        };
        for (var i = inputs.Count; i < 10_000; i++)
        {
            var n = rng.Next(0, 30);
            var s = string.Concat(Enumerable.Range(0, n).Select(_ => rng.Next(4) == 0 ? ((char)rng.Next(32, 0x3000)).ToString() : pieces[rng.Next(pieces.Length)]));
            inputs.Add((s, rng.Next(2) == 0 ? s : pieces[rng.Next(pieces.Length)]));
        }
        foreach (var (response, truth) in inputs)
        {
            foreach (var strict in new[] { false, true })
            {
                    var result = DapoMath.Score(response, truth, strict);
                    Assert.True(result.Score is 1 or -1);
            }
        }
    }
}
