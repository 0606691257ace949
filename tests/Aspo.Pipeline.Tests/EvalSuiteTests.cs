using Aspo.Pipeline.Config;

namespace Aspo.Pipeline.Tests;

public sealed class EvalSuiteTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-suite-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string SuitesFolder()
    {
        var root = Aspo.Tests.Shared.TestRepository.Root;
        return Path.Combine(root, "datasets", "suites");
    }

    [Fact]
    public void Every_shipped_suite_parses_and_the_synthetic_ones_load_their_prompts()
    {
        var files = Directory.GetFiles(SuitesFolder(), "*.yaml");
        Assert.True(files.Length >= 9, $"{files.Length} suites found");
        foreach (var file in files)
        {
            var suite = EvalSuite.Load(file, checkFiles: false);
            Assert.Equal(Path.GetFileNameWithoutExtension(file), suite.Name);
            Assert.NotEmpty(suite.Datasets);
        }
        var arith = EvalSuite.Load(Path.Combine(SuitesFolder(), "arith.yaml"));
        Assert.Equal(8, arith.Settings.SamplesPerPrompt);
        Assert.Equal([1, 2, 4, 8], arith.Settings.PassAtKs);
        var prompts = arith.LoadPrompts();
        Assert.Equal(1000, prompts.Count);
        Assert.Equal(["arith/L1", "arith/L2", "arith/L3", "arith/L4", "arith/L5"], prompts.Select(p => p.DataSource).Distinct());
        var quick = EvalSuite.Load(Path.Combine(SuitesFolder(), "arith-quick.yaml")).LoadPrompts();
        Assert.Equal(40, quick.Count);
    }

    [Fact]
    public void A_missing_public_benchmark_file_says_where_to_put_it()
    {
        var e = Assert.Throws<ConfigException>(() => EvalSuite.Load(Path.Combine(SuitesFolder(), "aime24.yaml")));
        Assert.Contains("external/aime24.jsonl not found", e.Message.Replace('\\', '/'));
        Assert.Contains("download aime24", e.Message);
    }

    [Fact]
    public void Instructions_are_appended_to_the_last_user_message()
    {
        File.WriteAllText(Path.Combine(_dir, "q.jsonl"), "{\"problem\": \"1+1?\", \"answer\": 2}\n");
        var suite = Write("name: t\ndatasets:\n  - file: q.jsonl\n    prompt_column: problem\n    answer_column: answer\n    data_source: amc23\n    instruction: \"Box it.\"\n");
        var p = Assert.Single(EvalSuite.Load(suite).LoadPrompts());
        Assert.Equal("1+1?\n\nBox it.", p.Prompt[^1].Content);
        Assert.Equal("2", p.GroundTruth);
        Assert.Equal("amc23", p.DataSource);
    }

    [Theory]
    [InlineData("datasets:\n  - file: q.jsonl\nsampling:\n  temprature: 0.6\n", "4:3: unknown key 'sampling.temprature'; known keys of sampling:")]
    [InlineData("datasets:\n  - file: q.jsonl\n    limt: 3\n", "3:5: unknown key 'datasets[0].limt'")]
    [InlineData("datasets:\n  - file: q.jsonl\nsampling:\n  n: four\n", "4:6: sampling.n: expected an integer, got 'four'")]
    [InlineData("datasets:\n  - file: q.jsonl\nsampling:\n  k: 4\n", "sampling.k: expected a list of integers")]
    [InlineData("datasets:\n  - file: q.jsonl\nsampling:\n  n: 2\n  k: [1, 4]\n", "every k of pass@k must be in [1, n = 2]")]
    [InlineData("datasets:\n  - file: nope.jsonl\n", "nope.jsonl not found")]
    [InlineData("name: x\n", "the suite needs at least one dataset")]
    [InlineData("datasets: [\n", "not valid YAML")]
    [InlineData("- a\n- b\n", "expected a mapping of keys at the top level")]
    [InlineData("datasets:\n  - file: q.jsonl\nrequire_think_close: maybe\n", "3:22: require_think_close: expected true or false, got 'maybe'")]
    public void Bad_suites_fail_naming_the_line_and_key(string yaml, string expected)
    {
        File.WriteAllText(Path.Combine(_dir, "q.jsonl"), "{\"prompt\": \"x\", \"answer\": \"1\"}\n");
        var e = Assert.Throws<ConfigException>(() => EvalSuite.Load(Write(yaml)));
        Assert.Contains(expected, e.Message);
        Assert.Contains("suite.yaml", e.Message);
    }

    private string Write(string yaml)
    {
        var path = Path.Combine(_dir, "suite.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }
}
