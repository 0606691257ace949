using System.Text;
using System.Text.Json;

namespace Aspo.Data;

/// <summary>
/// A JSON-lines dataset checked line by line before DuckDB reads it: DuckDB's reader reports a syntax error at the line
/// where it noticed it (often the next one) with its own SQL around it, and a row whose prompt has another type than
/// the rest turns the whole column into JSON without naming the row. Here every line is parsed on its own, so the
/// problems name the line (1-based) and the row (0-based, as in every other dataset message).
/// </summary>
internal static class JsonLinesDataset
{
    /// <summary>The file's problems, or none; an empty file is one problem ("no rows").</summary>
    public static List<DatasetProblem> Check(string file, DatasetMapping mapping)
    {
        var problems = new List<DatasetProblem>();
        var row = 0;
        var lineNumber = 0;
        JsonValueKind? promptKind = null; // DuckDB reads one type per column: lists of messages or strings, not both
        foreach (var line in File.ReadLines(file, Encoding.UTF8))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var where = $"line {lineNumber}";
            try
            {
                using var document = JsonDocument.Parse(line);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    problems.Add(new(row, "(row)", $"{where}: expected a JSON object, got {document.RootElement.ValueKind}"));
                else if (document.RootElement.TryGetProperty(mapping.PromptColumn, out var prompt))
                {
                    if (PromptProblem(prompt) is { } problem)
                        problems.Add(new(row, mapping.PromptColumn, $"{where}: {problem}"));
                    else if (promptKind is { } kind && kind != prompt.ValueKind)
                        problems.Add(new(row, mapping.PromptColumn, $"{where}: is {Kind(prompt.ValueKind)} while the rows before hold {Kind(kind)}; one kind per file"));
                    else
                        promptKind = prompt.ValueKind;
                }
            }
            catch (JsonException e)
            {
                problems.Add(new(row, "(row)", $"{where}: not valid JSON ({e.Message.Split(" LineNumber:")[0]})"));
            }
            row++;
            if (problems.Count >= 20)
                break;
        }
        if (row == 0 && problems.Count == 0)
            problems.Add(new(-1, "(file)", "no rows: the file is empty"));
        return problems;
    }

    private static string Kind(JsonValueKind kind) => kind == JsonValueKind.String ? "a string" : "lists of messages";

    /// <summary>A prompt is a string or a non-empty list of {role, content} objects with string fields.</summary>
    private static string? PromptProblem(JsonElement prompt)
    {
        if (prompt.ValueKind == JsonValueKind.String)
            return null;
        if (prompt.ValueKind != JsonValueKind.Array)
            return $"is a JSON {prompt.ValueKind}; expected a list of {{role, content}} messages or a string";
        var i = 0;
        foreach (var message in prompt.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object
                || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
                || !message.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                return $"message {i} needs string fields role and content";
            i++;
        }
        return i == 0 ? "has no messages" : null;
    }
}
