using DuckDB.NET.Data;

namespace Aspo.Data.Shards;

/// <summary>
/// One read-only SQL query over rollout shards, exposed as the view <c>shards</c>. The user's text must parse as exactly
/// one SELECT statement (DuckDB's own parser, through <c>json_serialize_sql</c>, which serializes only SELECTs); the view
/// is created, and then the connection is locked down before the query runs: only the shard files may be read
/// (<c>allowed_paths</c>), no other file or URL (<c>enable_external_access = false</c>), and no setting may change
/// again (<c>lock_configuration = true</c>). So <c>read_csv('/etc/passwd')</c>, <c>COPY … TO</c>, <c>ATTACH</c> and a
/// statement that closes a wrapper are all refused.
/// </summary>
public static class ShardQuery
{
    /// <summary>The result: column names and every value as text ("NULL" for nulls).</summary>
    public sealed record Result(IReadOnlyList<string> Columns, IReadOnlyList<string[]> Rows, int Files);

    public static Result Run(string sql, string shards)
    {
        var files = ShardReader.Resolve(shards);
        using var conn = DuckDbSql.Open();
        var select = SingleSelect(conn, sql);
        var list = string.Join(", ", files.Select(DuckDbSql.Literal));
        DuckDbSql.Execute(conn, $"CREATE VIEW shards AS SELECT * FROM read_parquet([{list}], union_by_name = true)");
        DuckDbSql.Execute(conn, $"SET allowed_paths = [{list}]");
        DuckDbSql.Execute(conn, "SET enable_external_access = false");
        DuckDbSql.Execute(conn, "SET lock_configuration = true");
        try
        {
            using var command = conn.CreateCommand();
            command.CommandText = $"SELECT COLUMNS(*)::VARCHAR FROM ({select})"; // select is one parsed SELECT: the parentheses hold
            using var reader = command.ExecuteReader();
            var columns = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToArray();
            var rows = new List<string[]>();
            while (reader.Read())
                rows.Add(Enumerable.Range(0, columns.Length).Select(c => reader.IsDBNull(c) ? "NULL" : reader.GetString(c)).ToArray());
            return new Result(columns, rows, files.Count);
        }
        catch (DuckDBException e)
        {
            throw new DataFormatException($"query: {DuckDbSql.Message(e)}");
        }
    }

    /// <summary>The statement without a trailing semicolon, after checking that it is exactly one SELECT.</summary>
    private static string SingleSelect(DuckDBConnection conn, string sql)
    {
        var text = sql.Trim().TrimEnd(';').TrimEnd();
        if (text.Length == 0)
            throw new DataFormatException("query: empty; expected one SELECT statement over the view `shards`");
        using var command = conn.CreateCommand();
        command.CommandText = "SELECT CAST(json_serialize_sql(CAST($sql AS VARCHAR)) AS VARCHAR)";
        command.Parameters.Add(new DuckDBParameter("sql", text));
        using var parsed = System.Text.Json.JsonDocument.Parse((string)command.ExecuteScalar()!);
        var root = parsed.RootElement;
        if (root.TryGetProperty("error", out var error) && error.GetBoolean())
        {
            var message = root.TryGetProperty("error_message", out var m) ? m.GetString() : "not valid SQL";
            throw new DataFormatException($"query: only one read-only SELECT statement is accepted: {message}");
        }
        var statements = root.GetProperty("statements").GetArrayLength();
        if (statements != 1)
            throw new DataFormatException($"query: {statements} statements; only one read-only SELECT statement is accepted");
        return text;
    }
}
