using System.Text.Json.Nodes;
using DuckDB.NET.Data;

namespace Aspo.Data;

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
