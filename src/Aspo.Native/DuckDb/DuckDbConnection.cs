namespace Aspo.Native.DuckDb;

/// <summary>A connection (<c>duckdb_connection</c>): runs SQL, creates appenders. Not thread-safe; use one per thread.</summary>
public sealed unsafe class DuckDbConnection : IDisposable
{
    private readonly DuckDbHandle _handle;

    internal DuckDbConnection(nint connection) => _handle = new DuckDbHandle(connection, DuckDbHandleKind.Connection);

    internal nint Pointer => _handle.Pointer;

    /// <summary>Runs <paramref name="sql"/> and returns its materialized result.</summary>
    /// <exception cref="DuckDbException">DuckDB rejected the statement; the message holds DuckDB's error text</exception>
    public DuckDbResult Query(string sql)
    {
        var result = new DuckDbResultStruct();
        int state;
        fixed (byte* s = Utf8.NullTerminated(sql))
            state = DuckDbNative.duckdb_query(Pointer, s, &result);
        if (state != DuckDbNative.Success)
        {
            var message = Utf8.Read(DuckDbNative.duckdb_result_error(&result));
            DuckDbNative.duckdb_destroy_result(&result); // must be destroyed even on failure
            throw new DuckDbException($"running SQL `{Abbreviate(sql)}`", message);
        }
        return new DuckDbResult(result);
    }

    /// <summary>
    /// Runs <paramref name="sql"/> as a streaming query: <see cref="DuckDbResult.FetchChunk"/> produces chunks as DuckDB
    /// computes them, so a large scan never sits in memory whole. Errors during the scan surface from FetchChunk.
    /// </summary>
    public DuckDbResult QueryStreaming(string sql)
    {
        nint prepared = 0, pending = 0;
        try
        {
            int state;
            fixed (byte* s = Utf8.NullTerminated(sql))
                state = DuckDbNative.duckdb_prepare(Pointer, s, &prepared);
            if (state != DuckDbNative.Success)
                throw new DuckDbException($"preparing SQL `{Abbreviate(sql)}`", Utf8.Read(DuckDbNative.duckdb_prepare_error(prepared)));
            if (DuckDbNative.duckdb_pending_prepared_streaming(prepared, &pending) != DuckDbNative.Success)
                throw new DuckDbException($"running SQL `{Abbreviate(sql)}`", Utf8.Read(DuckDbNative.duckdb_pending_error(pending)));
            var result = new DuckDbResultStruct();
            if (DuckDbNative.duckdb_execute_pending(pending, &result) != DuckDbNative.Success)
            {
                var message = Utf8.Read(DuckDbNative.duckdb_result_error(&result));
                DuckDbNative.duckdb_destroy_result(&result);
                throw new DuckDbException($"running SQL `{Abbreviate(sql)}`", message);
            }
            return new DuckDbResult(result);
        }
        finally
        {
            if (pending != 0)
                DuckDbNative.duckdb_destroy_pending(&pending);
            if (prepared != 0)
                DuckDbNative.duckdb_destroy_prepare(&prepared);
        }
    }

    /// <summary>Runs a statement that returns no rows the caller needs; returns the number of rows it changed.</summary>
    public long Execute(string sql)
    {
        using var result = Query(sql);
        return result.RowsChanged;
    }

    /// <summary>An appender that bulk-inserts data chunks into <paramref name="table"/>.</summary>
    public DuckDbAppender CreateAppender(string table, string? schema = null) => new(this, schema, table);

    /// <summary>A SQL string literal: <paramref name="value"/> in single quotes, embedded quotes doubled.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A quoted SQL identifier.</summary>
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string Abbreviate(string sql) => sql.Length <= 300 ? sql : sql[..300] + "…";

    public void Dispose() => _handle.Dispose();
}
