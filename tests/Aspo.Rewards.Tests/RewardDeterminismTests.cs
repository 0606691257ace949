using System.Reflection;
using System.Text.RegularExpressions;

namespace Aspo.Rewards.Tests;

/// <summary>
/// A grade must not depend on how busy the machine is: no grader regex has a wall-clock match timeout (a timeout that
/// fires under load turned a correct numeric answer's component from 1 into 0). Every static Regex of the rewards
/// assembly is linear-time (NonBacktracking) with no timeout.
/// </summary>
public sealed class RewardDeterminismTests
{
    [Fact]
    public void No_grader_regex_has_a_wall_clock_timeout()
    {
        var regexes = typeof(RewardRegistry).Assembly.GetTypes()
            .SelectMany(t => t.GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
            .Where(f => f.FieldType == typeof(Regex))
            .Select(f => (Name: $"{f.DeclaringType!.Name}.{f.Name}", Regex: (Regex)f.GetValue(null)!))
            .ToList();
        Assert.True(regexes.Count >= 5, $"found only {regexes.Count} regexes");
        foreach (var (name, regex) in regexes)
        {
            Assert.True(regex.MatchTimeout == Regex.InfiniteMatchTimeout, $"{name} has a match timeout of {regex.MatchTimeout}");
            Assert.True(regex.Options.HasFlag(RegexOptions.NonBacktracking), $"{name} can backtrack (worst case not linear)");
        }
    }

    /// <summary>The numeric component of the same responses, graded many times from several threads at once, never changes.</summary>
    [Fact]
    public void The_same_response_gets_the_same_grade_under_contention()
    {
        string[] answers = ["\\boxed{1,234}", "\\boxed{\\frac{3}{4}}", "\\boxed{12.50\\%}", "\\boxed{-7/14}", "\\boxed{x = 42}"];
        string[] truths = ["1234", "0.75", "0.125", "-0.5", "42"];
        var expected = answers.Select((a, i) => MathVerifier.Verify(a, truths[i]).Components["numeric"]).ToArray();
        Assert.All(expected, e => Assert.Equal(1.0, e));
        Parallel.For(0, 4 * Environment.ProcessorCount, _ =>
        {
            for (var k = 0; k < 2000; k++)
            {
                var i = k % answers.Length;
                Assert.Equal(expected[i], MathVerifier.Verify(answers[i], truths[i]).Components["numeric"]);
            }
        });
    }
}
