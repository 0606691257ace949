using System.Text.Json;
using System.Text.Json.Nodes;
using DuckDB.NET.Data;

namespace Aspo.Data;

/// <summary>One training prompt: its messages, the answer the reward checks, and where it came from.</summary>
public sealed record PromptRecord(long Row, string DataSource, IReadOnlyList<ChatMessage> Prompt, string GroundTruth, string Ability, string ExtraInfoJson);

/// <summary>
/// Which columns hold what. Default: the verl layout — <c>data_source</c>, <c>prompt</c> (list of {role, content}),
/// <c>ability</c>, <c>reward_model.ground_truth</c>, <c>extra_info</c>. For a simple layout set <see cref="PromptColumn"/>
/// to a string column (a single user message, e.g. "question") and <see cref="AnswerColumn"/> (e.g. "answer").
/// </summary>
public sealed record DatasetMapping
{
    public string PromptColumn { get; init; } = "prompt";
    /// <summary>Column holding the answer; null = verl's <c>reward_model.ground_truth</c>.</summary>
    public string? AnswerColumn { get; init; }
    public string DataSourceColumn { get; init; } = "data_source";
    /// <summary>data_source for rows of a file without that column.</summary>
    public string DefaultDataSource { get; init; } = "default";

    public static DatasetMapping Verl { get; } = new();
}

/// <summary>A problem found while reading a dataset: the row (or -1 for the file) and column, and what is wrong.</summary>
public sealed record DatasetProblem(long Row, string Column, string Message)
{
    public override string ToString() => Row < 0 ? $"column {Column}: {Message}" : $"row {Row}, column {Column}: {Message}";
}

/// <summary>What reading a dataset found: the usable records, the columns, and every problem.</summary>
public sealed record DatasetReport(string File, IReadOnlyList<(string Name, string Type)> Columns, IReadOnlyList<PromptRecord> Records, IReadOnlyList<DatasetProblem> Problems);

/// <summary>
/// Prompt datasets from JSONL or Parquet, read through DuckDB (so nested structs, lists and any Parquet codec DuckDB
/// reads work). Validation names the file and the missing or wrong-typed column, and every bad row.
/// </summary>
public static class PromptDataset
{
    /// <summary>Reads every record; throws on the first problem.</summary>
    /// <exception cref="DataFormatException">unreadable file, missing/wrong-typed column, or a bad row (named)</exception>
    public static IReadOnlyList<PromptRecord> Load(string path, DatasetMapping? mapping = null)
    {
        var report = Inspect(path, mapping);
        if (report.Problems.Count > 0)
            throw new DataFormatException($"{report.File}: {report.Problems[0]}" + (report.Problems.Count > 1 ? $" (and {report.Problems.Count - 1} more problems; run `aspo data validate {report.File}`)" : ""));
        return report.Records;
    }

    /// <summary>Reads the dataset and collects every problem instead of stopping at the first.</summary>
    public static DatasetReport Inspect(string path, DatasetMapping? mapping = null)
    {
        var m = mapping ?? DatasetMapping.Verl;
        var file = Path.GetFullPath(path);
        if (!File.Exists(file))
            throw new DataFormatException($"{file}: dataset file not found");
        var source = Path.GetExtension(file).ToLowerInvariant() switch
        {
            ".parquet" => $"read_parquet({DuckDbSql.Literal(file)})",
            ".jsonl" or ".json" or ".ndjson" => $"read_json({DuckDbSql.Literal(file)}, format = 'newline_delimited')",
            var ext => throw new DataFormatException($"{file}: unsupported dataset extension \"{ext}\"; expected .parquet or .jsonl"),
        };
        if (source.StartsWith("read_json", StringComparison.Ordinal) && JsonLinesDataset.Check(file, m) is { Count: > 0 } lineProblems)
            return new DatasetReport(file, [], [], lineProblems);
        using var conn = DuckDbSql.Open();
        List<(string Name, string Type)> columns;
        try
        {
            columns = DuckDbSql.ReadStrings(conn, $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})").Select(r => (r[0]!, r[1]!)).ToList();
        }
        catch (DuckDBException e)
        {
            throw new DataFormatException($"{file}: cannot be read as a dataset: {DuckDbSql.Message(e)}");
        }

        var problems = new List<DatasetProblem>();
        // DuckDB quotes some struct field names ("role", "index"); compare types without the quotes
        string TypeOf(string name) => (columns.FirstOrDefault(c => c.Name == name).Type ?? "").Replace("\"", "", StringComparison.Ordinal);
        var found = string.Join(", ", columns.Select(c => $"{c.Name} {c.Type}"));

        var promptType = TypeOf(m.PromptColumn);
        var promptIsMessages = promptType.StartsWith("STRUCT(", StringComparison.Ordinal) && promptType.EndsWith("[]", StringComparison.Ordinal);
        if (promptType.Length == 0)
            problems.Add(new(-1, m.PromptColumn, $"missing; columns found: {found}"));
        else if (!promptIsMessages && promptType != "VARCHAR")
            problems.Add(new(-1, m.PromptColumn, $"has type {promptType}; expected a list of {{role, content}} structs (verl) or a string"));
        else if (promptIsMessages && !(promptType.Contains("role VARCHAR", StringComparison.Ordinal) && promptType.Contains("content VARCHAR", StringComparison.Ordinal)))
            problems.Add(new(-1, m.PromptColumn, $"has type {promptType}; each message needs string fields role and content"));

        string answerExpression;
        var answerColumn = m.AnswerColumn ?? "reward_model.ground_truth";
        if (m.AnswerColumn is null)
        {
            var rewardType = TypeOf("reward_model");
            if (rewardType.Length == 0)
                problems.Add(new(-1, "reward_model", $"missing (verl layout needs reward_model.ground_truth; for another layout set the answer column); columns found: {found}"));
            else if (!rewardType.Contains("ground_truth ", StringComparison.Ordinal))
                problems.Add(new(-1, "reward_model", $"has type {rewardType}; expected a struct with a ground_truth field"));
            answerExpression = "to_json(reward_model.ground_truth)";
        }
        else
        {
            if (TypeOf(m.AnswerColumn).Length == 0)
                problems.Add(new(-1, m.AnswerColumn, $"missing; columns found: {found}"));
            answerExpression = $"to_json({DuckDbSql.Identifier(m.AnswerColumn)})";
        }
        if (problems.Count > 0)
            return new DatasetReport(file, columns, [], problems);

        string Optional(string column, string expression) => TypeOf(column).Length > 0 ? expression : "NULL";
        var sql = $"""
            SELECT {Optional(m.DataSourceColumn, $"CAST({DuckDbSql.Identifier(m.DataSourceColumn)} AS VARCHAR)")},
                   CAST(to_json({DuckDbSql.Identifier(m.PromptColumn)}) AS VARCHAR),
                   CAST({answerExpression} AS VARCHAR),
                   {Optional("ability", "CAST(ability AS VARCHAR)")},
                   {Optional("extra_info", "CAST(to_json(extra_info) AS VARCHAR)")}
            FROM {source}
            """;
        List<string?[]> rows;
        try
        {
            rows = DuckDbSql.ReadStrings(conn, sql);
        }
        catch (DuckDBException e)
        {
            throw new DataFormatException($"{file}: {DuckDbSql.Message(e)}");
        }

        var records = new List<PromptRecord>(rows.Count);
        for (var row = 0; row < rows.Count; row++)
        {
            var r = rows[row];
            var messages = ParsePrompt(r[1], promptIsMessages, row, m.PromptColumn, problems);
            var answer = ParseAnswer(r[2], row, answerColumn, problems);
            if (messages is null || answer is null)
                continue;
            records.Add(new PromptRecord(row, r[0] ?? m.DefaultDataSource, messages, answer, r[3] ?? "", r[4] ?? "null"));
        }
        return new DatasetReport(file, columns, records, problems);
    }

    private static List<ChatMessage>? ParsePrompt(string? json, bool isMessages, int row, string column, List<DatasetProblem> problems)
    {
        if (json is null || json == "null")
        {
            problems.Add(new(row, column, "is null"));
            return null;
        }
        var node = JsonNode.Parse(json);
        if (!isMessages)
        {
            var text = node!.GetValue<string>();
            if (string.IsNullOrWhiteSpace(text))
            {
                problems.Add(new(row, column, "is empty"));
                return null;
            }
            return [new ChatMessage("user", text)];
        }
        var list = node as JsonArray;
        if (list is null || list.Count == 0)
        {
            problems.Add(new(row, column, "has no messages"));
            return null;
        }
        var messages = new List<ChatMessage>(list.Count);
        for (var i = 0; i < list.Count; i++)
        {
            var role = list[i]?["role"]?.GetValue<string>();
            var content = list[i]?["content"]?.GetValue<string>();
            if (role is null || content is null)
            {
                problems.Add(new(row, $"{column}[{i}]", "needs string role and content"));
                return null;
            }
            messages.Add(new ChatMessage(role, content));
        }
        return messages;
    }

    private static string? ParseAnswer(string? json, int row, string column, List<DatasetProblem> problems)
    {
        if (json is null || json == "null")
        {
            problems.Add(new(row, column, "is null"));
            return null;
        }
        var node = JsonNode.Parse(json);
        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node!.ToJsonString(); // numbers and lists keep their JSON text
    }
}

/// <summary>Where sampling is in the dataset: the epoch and the position inside that epoch's shuffled order.</summary>
public sealed record SamplerState(int Epoch, int Position)
{
    public string ToJson() => JsonSerializer.Serialize(new { epoch = Epoch, position = Position });

    public static SamplerState FromJson(string json)
    {
        var o = JsonNode.Parse(json) as JsonObject ?? throw new DataFormatException("sampler state: expected a JSON object");
        return new SamplerState(o["epoch"]?.GetValue<int>() ?? throw new DataFormatException("sampler state: field epoch missing"),
            o["position"]?.GetValue<int>() ?? throw new DataFormatException("sampler state: field position missing"));
    }
}

/// <summary>
/// Deterministic epochs over a dataset of N prompts: epoch e visits a permutation fixed by (seed, e) (SplitMix64-driven
/// Fisher–Yates, stable across .NET versions); batches continue across epoch boundaries; the state can be saved and
/// restored so a resumed run draws exactly the prompts an uninterrupted one would.
/// </summary>
public sealed class PromptSampler
{
    private readonly int _count;
    private readonly ulong _seed;
    private int[] _order;

    public PromptSampler(int count, ulong seed, SamplerState? state = null)
    {
        if (count <= 0)
            throw new ArgumentException("the dataset has no prompts");
        _count = count;
        _seed = seed;
        State = state ?? new SamplerState(0, 0);
        if (State.Position < 0 || State.Position > count || State.Epoch < 0)
            throw new ArgumentException($"sampler state {State} does not fit a dataset of {count} prompts");
        _order = Permutation(count, seed, State.Epoch);
    }

    public SamplerState State { get; private set; }

    /// <summary>The next <paramref name="batchSize"/> prompt indices.</summary>
    public int[] Next(int batchSize)
    {
        var batch = new int[batchSize];
        for (var i = 0; i < batchSize; i++)
        {
            if (State.Position == _count)
            {
                State = new SamplerState(State.Epoch + 1, 0);
                _order = Permutation(_count, _seed, State.Epoch);
            }
            batch[i] = _order[State.Position];
            State = State with { Position = State.Position + 1 };
        }
        return batch;
    }

    internal static int[] Permutation(int count, ulong seed, int epoch)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var state = seed ^ (0x9E3779B97F4A7C15UL * (ulong)(epoch + 1));
        SplitMix64.Shuffle(order, ref state);
        return order;
    }
}
