using Aspo.Rewards.Code;

namespace Aspo.Rewards.Tests;

/// <summary>The graders that read model output besides Hendrycks/math_dapo (which have their own fuzz tests): gsm8k,
/// the code extractor and the stdin/stdout judge never throw on random and adversarial text. (Their speed is measured by
/// tools/bench/run rewards, not here: a unit test must not depend on how busy the machine is.)</summary>
public sealed class GraderFuzzTests
{
    [Fact]
    public void Gsm8k_code_extraction_and_the_stdio_judge_never_throw()
    {
        var rng = new Random(23);
        string[] pieces = ["####", "#### ", "-", "1", ",", ".", "$", "```", "```python\n", "\n", " ", "\r\n", "1e5", "_", "inf", "nan", "0.5", "9" + new string('9', 40), "e-", "x"];
        var inputs = new List<string>
        {
            "#### " + new string('1', 1_000_000),
            string.Concat(Enumerable.Repeat("#### 1,", 200_000)),
            string.Concat(Enumerable.Repeat("```\n", 200_000)),
            string.Concat(Enumerable.Repeat("1 ", 500_000)),
            "1e" + new string('9', 100_000),
            new string('\n', 1_000_000),
        };
        for (var i = inputs.Count; i < 10_000; i++)
            inputs.Add(string.Concat(Enumerable.Range(0, rng.Next(0, 30)).Select(_ => rng.Next(4) == 0 ? ((char)rng.Next(32, 0x3000)).ToString() : pieces[rng.Next(pieces.Length)])));
        for (var i = 0; i < inputs.Count; i++)
        {
            var other = inputs[rng.Next(inputs.Count)];
            Assert.InRange(Gsm8k.Score(inputs[i], "1").Score, 0, 1);
            Gsm8k.ExtractSolution(inputs[i], flexible: true);
            CodeReward.ExtractCode(inputs[i]);
            StdioJudge.Matches(inputs[i], other);
            StdioJudge.Matches(inputs[i], inputs[i]);
        }
    }
}
