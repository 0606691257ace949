using Aspo.Native.Files;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aspo.Data;

/// <summary>
/// Writes prompt datasets in verl's layout (data_source, prompt as a list of {role, content}, ability,
/// reward_model {style: "rule", ground_truth}, extra_info) as JSONL, or as Parquet through DuckDB. Atomic: the file
/// appears under its name only when complete.
/// </summary>
public static class PromptDatasetWriter
{
    // readable JSONL: "+" and non-ASCII text as themselves, not \u escapes
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(string path, IReadOnlyList<PromptRow> rows)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new DataFormatException($"{full}: folder {folder} does not exist");
        var extension = Path.GetExtension(full).ToLowerInvariant();
        if (extension is not (".parquet" or ".jsonl"))
            throw new DataFormatException($"{full}: unsupported dataset extension \"{extension}\"; expected .parquet or .jsonl");
        void WriteJsonLines(string path)
        {
            using var writer = new StreamWriter(path, false, new UTF8Encoding(false));
            foreach (var r in rows)
                writer.WriteLine(ToJson(r).ToJsonString(JsonOptions));
        }
        if (extension == ".jsonl")
        {
            AtomicFile.Write(full, WriteJsonLines);
            return;
        }
        // Parquet: the rows as JSON lines (a temporary of their own), converted by DuckDB
        var jsonl = AtomicFile.TemporaryPath(full + ".jsonl");
        try
        {
            WriteJsonLines(jsonl);
            AtomicFile.Write(full, temp =>
            {
                using var conn = DuckDbSql.Open();
                DuckDbSql.Execute(conn, $"""
                    COPY (SELECT data_source, prompt, ability, reward_model, extra_info
                          FROM read_json({DuckDbSql.Literal(jsonl)}, format = 'newline_delimited', sample_size = -1))
                    TO {DuckDbSql.Literal(temp)} (FORMAT parquet, COMPRESSION zstd)
                    """);
            });
        }
        finally
        {
            File.Delete(jsonl);
        }
    }

    private static JsonObject ToJson(PromptRow r) => new()
    {
        ["data_source"] = r.DataSource,
        ["prompt"] = new JsonArray([.. r.Prompt.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]),
        ["ability"] = r.Ability,
        ["reward_model"] = new JsonObject { ["style"] = "rule", ["ground_truth"] = r.GroundTruth },
        ["extra_info"] = r.ExtraInfo.DeepClone(),
    };
}
