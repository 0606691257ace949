using System.Text.Json;
using Aspo.Rewards.Code;
using Aspo.Tests.Shared;

namespace Aspo.Rewards.Tests;

public sealed class StdioJudgeTests
{
    [Theory]
    [InlineData("3\n", "3", true)]
    [InlineData("  1 2 3  \r\n\n", "1 2 3", true)]   // stripped output, stripped lines
    [InlineData("1.0 2\n", "1 2.00", true)]          // numbers equal as Decimals
    [InlineData("0.333\n", "0.3333", false)]         // no tolerance: LiveCodeBench compares Decimals exactly
    [InlineData("YES\n", "yes", false)]
    [InlineData("1\n\n2", "1\n2", false)]            // inner blank lines count
    [InlineData("1  2", "1 2", true)]                // numbers: whitespace-split
    [InlineData("a  b", "a b", false)]               // text: exact line
    [InlineData("", "", true)]
    public void Outputs_are_compared_as_livecodebench_does(string actual, string expected, bool match) =>
        Assert.Equal(match, StdioJudge.Matches(actual, expected));

    /// <summary>Token equality against Python's own Decimal (tools/reference/decimal_equal.py) on tricky literals.</summary>
    [Fact]
    public void Number_tokens_compare_exactly_as_python_decimal_does()
    {
        string[] tokens =
        [
            "1", "1.0", "1.", ".5", "0.50", "+1", "-0", "0", "0.000", "1e2", "100", "1E+2", "10e1", "1_000", "1000", "1__0", "_1",
            "1e", "e5", ".", "-.5", "-0.5", "inf", "Infinity", "-INF", "nan", "NaN", "sNaN", "nan12", "1.2.3", "٣", "3", "1e-3",
            "0.001", "12345678901234567890123456789012345678901234567890", "1.2345678901234567890123456789012345678901234567890e49",
            "0x10", "16", "1e99999999999999999999", "1e+0", "+", "-", "1,000", "½", "1e1_0", "10000000000", "in_f", "_", "1._5", "1e_5",
            "1e999999999999999999", "10e999999999999999999", "0.1e1000000000000000000", "1e1000000000000000000", "0e1000000000000000000",
            "1e-1999999999999999997", "1e-1999999999999999998", "0.01e-1999999999999999997", "1e-0000000000000000000000000000000000000000000000005",
            "0.00001", "1e0000000000000000000000000000000000000000000000000000000000000001",
        ];
        var pairs = new List<string[]>();
        foreach (var a in tokens)
        {
            foreach (var b in tokens)
                pairs.Add([a, b]);
        }
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, JsonSerializer.Serialize(pairs));
            var (exit, output) = RequiresTorchFactAttribute.RunReferenceScript("decimal_equal.py", file);
            Assert.True(exit == 0, output);
            var verdicts = JsonSerializer.Deserialize<string[]>(output)!;
            Assert.Equal(pairs.Count, verdicts.Length);
            var mismatches = new List<string>();
            for (var i = 0; i < pairs.Count; i++)
            {
                var ours = StdioJudge.TryNormalize(pairs[i][0], out var x) & StdioJudge.TryNormalize(pairs[i][1], out var y);
                var verdict = !ours ? "invalid" : x is not null && x == y ? "equal" : "different";
                if (verdict != verdicts[i])
                    mismatches.Add($"'{pairs[i][0]}' vs '{pairs[i][1]}': python {verdicts[i]}, ours {verdict}");
            }
            Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
