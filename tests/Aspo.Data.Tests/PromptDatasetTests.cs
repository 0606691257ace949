using System.Text.Json;

namespace Aspo.Data.Tests;

public sealed class PromptDatasetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-dataset-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>Written by DuckDB's Node API (tools/reference/verl_dataset.mjs): snappy Parquet with nested structs, and JSONL.</summary>
    [Theory]
    [InlineData("verl_math.parquet")]
    [InlineData("verl_math.jsonl")]
    public void Verl_layout_from_another_tool_loads_with_the_right_prompts_and_answers(string file)
    {
        var expected = JsonDocument.Parse(File.ReadAllText(Fixture("verl_math.expected.json"))).RootElement.EnumerateArray().ToArray();
        var records = PromptDataset.Load(Fixture(file));
        Assert.Equal(expected.Length, records.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            var e = expected[i];
            var r = records[i];
            Assert.Equal(i, r.Row);
            Assert.Equal(e.GetProperty("data_source").GetString(), r.DataSource);
            Assert.Equal(e.GetProperty("ability").GetString(), r.Ability);
            Assert.Equal(e.GetProperty("reward_model").GetProperty("ground_truth").GetString(), r.GroundTruth);
            Assert.Equal(e.GetProperty("prompt").EnumerateArray().Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)), r.Prompt);
            Assert.Equal(e.GetProperty("extra_info").GetProperty("index").GetInt32(), JsonDocument.Parse(r.ExtraInfoJson).RootElement.GetProperty("index").GetInt32());
        }
    }

    [Fact]
    public void Simple_question_answer_layout_is_mapped_by_config()
    {
        var file = Path.Combine(_dir, "qa.jsonl");
        File.WriteAllLines(file, ["{\"question\": \"2+2?\", \"answer\": 4}", "{\"question\": \"Capital of France?\", \"answer\": \"Paris\"}"]);
        var records = PromptDataset.Load(file, new DatasetMapping { PromptColumn = "question", AnswerColumn = "answer", DefaultDataSource = "toy" });
        Assert.Equal([new ChatMessage("user", "2+2?")], records[0].Prompt);
        Assert.Equal("4", records[0].GroundTruth);
        Assert.Equal("Paris", records[1].GroundTruth);
        Assert.Equal("toy", records[1].DataSource);
    }

    [Fact]
    public void Missing_and_wrong_typed_columns_are_named_with_the_file()
    {
        var file = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllLines(file, ["{\"data_source\": \"x\", \"question\": \"q\", \"reward_model\": {\"ground_truth\": \"1\"}}"]);
        var e = Assert.Throws<DataFormatException>(() => PromptDataset.Load(file));
        Assert.Contains($"{file}: column prompt: missing; columns found: data_source VARCHAR, question VARCHAR, reward_model", e.Message);

        File.WriteAllLines(file, ["{\"prompt\": 5, \"reward_model\": {\"ground_truth\": \"1\"}}"]);
        e = Assert.Throws<DataFormatException>(() => PromptDataset.Load(file));
        Assert.Contains("row 0, column prompt: line 1: is a JSON Number; expected a list of {role, content} messages or a string", e.Message);
        e = Assert.Throws<DataFormatException>(() => PromptDataset.Load(AsParquet(file))); // the same column typed by DuckDB
        Assert.Contains("column prompt: has type BIGINT; expected a list of {role, content} structs (verl) or a string", e.Message);

        File.WriteAllLines(file, ["{\"prompt\": \"q\", \"reward_model\": {\"style\": \"rule\"}}"]);
        e = Assert.Throws<DataFormatException>(() => PromptDataset.Load(file));
        Assert.Contains("column reward_model: has type STRUCT(style VARCHAR); expected a struct with a ground_truth field", e.Message);
    }

    [Fact]
    public void Bad_rows_are_reported_with_row_and_column()
    {
        var file = Path.Combine(_dir, "rows.jsonl");
        File.WriteAllLines(file,
        [
            "{\"prompt\": [{\"role\": \"user\", \"content\": \"ok\"}], \"reward_model\": {\"ground_truth\": \"1\"}}",
            "{\"prompt\": [], \"reward_model\": {\"ground_truth\": \"1\"}}",
            "{\"prompt\": [{\"role\": \"user\", \"content\": \"ok\"}], \"reward_model\": {\"ground_truth\": null}}",
            "{\"prompt\": [{\"role\": \"user\"}], \"reward_model\": {\"ground_truth\": \"2\"}}",
        ]);
        // JSON lines are checked line by line before DuckDB reads them
        Assert.Equal(["row 1, column prompt: line 2: has no messages", "row 3, column prompt: line 4: message 0 needs string fields role and content"],
            PromptDataset.Inspect(file).Problems.Select(p => p.ToString()));
        // the same rows in Parquet: DuckDB's typed rows are checked one by one
        var parquet = AsParquet(file);
        var report = PromptDataset.Inspect(parquet);
        Assert.Single(report.Records);
        Assert.Equal(["row 1, column prompt: has no messages", "row 2, column reward_model.ground_truth: is null", "row 3, column prompt[0]: needs string role and content"],
            report.Problems.Select(p => p.ToString()));
        var e = Assert.Throws<DataFormatException>(() => PromptDataset.Load(parquet));
        Assert.Contains("row 1, column prompt: has no messages (and 2 more problems; run `aspo data validate", e.Message);
    }

    /// <summary>The JSON-lines file converted to Parquet by DuckDB itself (types as DuckDB infers them).</summary>
    private static string AsParquet(string jsonl)
    {
        var parquet = Path.ChangeExtension(jsonl, ".parquet");
        using var conn = DuckDbSql.Open();
        DuckDbSql.Execute(conn, $"COPY (SELECT * FROM read_json({DuckDbSql.Literal(jsonl)}, format = 'newline_delimited')) TO {DuckDbSql.Literal(parquet)} (FORMAT parquet)");
        return parquet;
    }

    [Fact]
    public void Unreadable_files_are_errors_naming_them()
    {
        var truncated = Path.Combine(_dir, "truncated.parquet");
        var bytes = File.ReadAllBytes(Fixture("verl_math.parquet"));
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        Assert.Contains(truncated, Assert.Throws<DataFormatException>(() => PromptDataset.Load(truncated)).Message);
        Assert.Contains("dataset file not found", Assert.Throws<DataFormatException>(() => PromptDataset.Load(Path.Combine(_dir, "nope.parquet"))).Message);
        var csv = Path.Combine(_dir, "data.csv");
        File.WriteAllText(csv, "a,b\n");
        Assert.Contains("unsupported dataset extension \".csv\"", Assert.Throws<DataFormatException>(() => PromptDataset.Load(csv)).Message);
    }

    [Fact]
    public void Sampler_is_deterministic_covers_each_epoch_and_resumes_exactly()
    {
        var sampler = new PromptSampler(10, seed: 42);
        var epoch0 = sampler.Next(10);
        Assert.Equal(Enumerable.Range(0, 10), epoch0.Order());
        Assert.NotEqual(Enumerable.Range(0, 10), epoch0); // shuffled
        var next = sampler.Next(7); // crosses into epoch 1
        Assert.Equal(new SamplerState(1, 7), sampler.State);
        Assert.Equal(PromptSampler.Permutation(10, 42, 1)[..7], next);
        Assert.NotEqual(PromptSampler.Permutation(10, 42, 0), PromptSampler.Permutation(10, 42, 1));

        // an uninterrupted run vs one that stops mid-epoch, saves its cursor, and resumes across the epoch boundary
        var uninterrupted = new PromptSampler(10, 7);
        var expected = Enumerable.Range(0, 6).SelectMany(_ => uninterrupted.Next(4)).ToArray();
        var first = new PromptSampler(10, 7);
        var part1 = Enumerable.Range(0, 2).SelectMany(_ => first.Next(4)).ToArray();
        var resumed = new PromptSampler(10, 7, SamplerState.FromJson(first.State.ToJson()));
        var part2 = Enumerable.Range(0, 4).SelectMany(_ => resumed.Next(4)).ToArray();
        Assert.Equal(expected, part1.Concat(part2));
        Assert.Equal(new PromptSampler(10, 7).Next(12), new PromptSampler(10, 7).Next(12));
    }
}
