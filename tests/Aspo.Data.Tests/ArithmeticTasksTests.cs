using System.Globalization;
using System.Text.RegularExpressions;
using Aspo.Data.Synthetic;

namespace Aspo.Data.Tests;

public sealed class ArithmeticTasksTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-arith-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Same_seed_same_problems_and_train_and_heldout_never_overlap()
    {
        foreach (var level in ArithmeticTasks.Levels.Take(4))
        {
            var a = ArithmeticTasks.Generate(level, ArithmeticSplit.Train, 300, seed: 7);
            var b = ArithmeticTasks.Generate(level, ArithmeticSplit.Train, 300, seed: 7);
            Assert.Equal(a.Select(p => p.Key), b.Select(p => p.Key));
            Assert.Equal(300, a.Select(p => p.Key).Distinct().Count());
            var heldOut = ArithmeticTasks.Generate(level, ArithmeticSplit.HeldOut, 60, seed: 99);
            Assert.Empty(a.Select(p => p.Key).Intersect(heldOut.Select(p => p.Key)));
            Assert.All(a, p => Assert.Equal(level.Steps, p.Steps.Count));
        }
        Assert.NotEqual(ArithmeticTasks.Generate(ArithmeticTasks.Level("L3"), ArithmeticSplit.Train, 20, 1).Select(p => p.Key),
                        ArithmeticTasks.Generate(ArithmeticTasks.Level("L3"), ArithmeticSplit.Train, 20, 2).Select(p => p.Key));
    }

    /// <summary>Answers and every line of the worked solutions, evaluated independently by DuckDB's SQL arithmetic.</summary>
    [Fact]
    public void Answers_and_solution_lines_agree_with_duckdb()
    {
        using var conn = DuckDbSql.Open();
        var line = new Regex(@"^(\d+) ([+*-]) (\d+) = (\d+)$");
        foreach (var level in ArithmeticTasks.Levels)
        {
            foreach (var p in ArithmeticTasks.Generate(level, ArithmeticSplit.HeldOut, 40, seed: 3))
            {
                // left-nested parentheses: the chain applies its steps in order
                var sql = new string('(', p.Steps.Count) + p.Start.ToString(CultureInfo.InvariantCulture)
                          + string.Concat(p.Steps.Select(s => $" {s.Operator} {s.Operand.ToString(CultureInfo.InvariantCulture)})"));
                var expected = DuckDbSql.ReadStrings(conn, $"SELECT CAST({sql} AS VARCHAR)")[0][0];
                Assert.Equal(expected, p.Answer.ToString(CultureInfo.InvariantCulture));
                var lines = p.Solution.Split('\n');
                Assert.Equal(p.Steps.Count + 1, lines.Length);
                foreach (var l in lines[..^1])
                {
                    var m = line.Match(l);
                    Assert.True(m.Success, l);
                    var value = DuckDbSql.ReadStrings(conn, $"SELECT CAST({m.Groups[1].Value} {m.Groups[2].Value} {m.Groups[3].Value} AS VARCHAR)")[0][0];
                    Assert.Equal(value, m.Groups[4].Value);
                    Assert.True(long.Parse(value!, CultureInfo.InvariantCulture) >= 0, "intermediate results stay non-negative");
                }
                Assert.Equal($"The answer is \\boxed{{{expected}}}.", lines[^1]);
            }
        }
    }

    [Theory]
    [InlineData("suite.parquet")]
    [InlineData("suite.jsonl")]
    public void Written_datasets_read_back_in_the_verl_layout(string name)
    {
        var problems = ArithmeticTasks.Generate(ArithmeticTasks.Level("L2"), ArithmeticSplit.HeldOut, 25, seed: 5);
        var rows = problems.Select((p, i) => new PromptRow(p.Level.DataSource, [new ChatMessage("user", p.Question)], "math",
            p.Answer.ToString(CultureInfo.InvariantCulture), new System.Text.Json.Nodes.JsonObject { ["index"] = i, ["solution"] = p.Solution })).ToList();
        var path = Path.Combine(_dir, name);
        PromptDatasetWriter.Write(path, rows);
        var read = PromptDataset.Load(path);
        Assert.Equal(rows.Count, read.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal("arith/L2", read[i].DataSource);
            Assert.Equal(rows[i].Prompt, read[i].Prompt);
            Assert.Equal(rows[i].GroundTruth, read[i].GroundTruth);
            Assert.Equal(problems[i].Solution, System.Text.Json.Nodes.JsonNode.Parse(read[i].ExtraInfoJson)!["solution"]!.GetValue<string>());
        }
        Assert.Equal([name], Directory.GetFiles(_dir).Select(Path.GetFileName)); // no temporary file left
    }

    [Fact]
    public void Writing_into_a_missing_folder_or_with_an_unknown_extension_fails_naming_the_file()
    {
        var missing = Path.Combine(_dir, "nope", "x.parquet");
        Assert.Contains("does not exist", Assert.Throws<DataFormatException>(() => PromptDatasetWriter.Write(missing, [])).Message);
        var csv = Path.Combine(_dir, "x.csv");
        Assert.Contains("x.csv", Assert.Throws<DataFormatException>(() => PromptDatasetWriter.Write(csv, [])).Message);
        Assert.Empty(Directory.GetFiles(_dir));
    }

    [Fact]
    public void An_unknown_level_names_the_known_ones() =>
        Assert.Contains("L1, L2, L3, L4, L5", Assert.Throws<ArgumentException>(() => ArithmeticTasks.Level("L9")).Message);
}
