using DuckDB.NET.Data;

namespace Aspo.Data;

/// <summary>
/// DuckDB through its maintained ADO.NET provider (DuckDB.NET): an in-memory connection per use, SQL quoting, result
/// rows as strings, and DuckDB's error text without the SQL excerpt it appends (which would show our internal queries).
/// </summary>
public static class DuckDbSql
{
    /// <summary>The package that provides DuckDB (managed provider and libduckdb.so).</summary>
    public const string Package = "DuckDB.NET.Data.Full 1.5.6.1";

    /// <summary>The loaded library's version, e.g. "v1.5.2".</summary>
    public static string Version
    {
        get
        {
            using var connection = Open();
            return ReadStrings(connection, "SELECT version()")[0][0]!;
        }
    }

    /// <summary>A fresh in-memory database and its connection, open.</summary>
    public static DuckDBConnection Open()
    {
        var connection = new DuckDBConnection("DataSource=:memory:");
        try
        {
            connection.Open();
        }
        catch (Exception e) when (Aspo.Native.PackagedLibraries.IsMissingLibrary(e))
        {
            connection.Dispose();
            throw Aspo.Native.PackagedLibraries.Missing("libduckdb.so", Package, e);
        }
        return connection;
    }

    public static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Every row of <paramref name="sql"/>, each column as text (NULL as null).</summary>
    public static List<string?[]> ReadStrings(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string?[]>();
        while (reader.Read())
        {
            var row = new string?[reader.FieldCount];
            for (var c = 0; c < row.Length; c++)
                row[c] = reader.IsDBNull(c) ? null : Convert.ToString(reader.GetValue(c), System.Globalization.CultureInfo.InvariantCulture);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>A SQL string literal.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A quoted SQL identifier.</summary>
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>DuckDB's message without the "LINE 1: …" excerpt of the statement it was running.</summary>
    public static string Message(DuckDBException e)
    {
        var text = e.Message;
        var excerpt = text.IndexOf("\nLINE ", StringComparison.Ordinal);
        return (excerpt < 0 ? text : text[..excerpt]).Trim();
    }
}
