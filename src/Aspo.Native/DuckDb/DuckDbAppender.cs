namespace Aspo.Native.DuckDb;

/// <summary>
/// Bulk insertion into one table (<c>duckdb_appender</c>) by whole data chunks. Call <see cref="Close"/> to
/// flush and see errors; disposing without closing discards nothing but reports nothing either.
/// </summary>
public sealed unsafe class DuckDbAppender : IDisposable
{
    private readonly DuckDbHandle _handle;
    private readonly string _table;

    internal DuckDbAppender(DuckDbConnection connection, string? schema, string table)
    {
        _table = schema is null ? table : $"{schema}.{table}";
        nint appender;
        int state;
        fixed (byte* s = schema is null ? null : Utf8.NullTerminated(schema))
        fixed (byte* t = Utf8.NullTerminated(table))
            state = DuckDbNative.duckdb_appender_create(connection.Pointer, s, t, &appender);
        _handle = new DuckDbHandle(appender, DuckDbHandleKind.Appender); // destroyed even when creation failed
        if (state != DuckDbNative.Success)
        {
            var message = Utf8.Read(DuckDbNative.duckdb_appender_error(appender));
            _handle.Dispose();
            throw new DuckDbException($"creating an appender for table {_table}", message);
        }
        var count = (int)DuckDbNative.duckdb_appender_column_count(appender);
        var types = new DuckDbLogicalType[count];
        for (var i = 0; i < count; i++)
            types[i] = new DuckDbLogicalType(DuckDbNative.duckdb_appender_column_type(appender, (ulong)i));
        ColumnTypes = types;
    }

    /// <summary>The table's column types, in order (owned by the appender).</summary>
    public IReadOnlyList<DuckDbLogicalType> ColumnTypes { get; }

    /// <summary>An empty chunk shaped like the table; fill it and pass it to <see cref="Append"/>.</summary>
    public DuckDbDataChunk CreateChunk() => DuckDbDataChunk.Create(ColumnTypes);

    /// <summary>Appends the rows of <paramref name="chunk"/> (its <see cref="DuckDbDataChunk.Size"/> rows).</summary>
    public void Append(DuckDbDataChunk chunk)
    {
        if (DuckDbNative.duckdb_append_data_chunk(Pointer, chunk.Pointer) != DuckDbNative.Success)
            throw new DuckDbException($"appending {chunk.Size} rows to table {_table}", Utf8.Read(DuckDbNative.duckdb_appender_error(Pointer)));
    }

    public void Flush()
    {
        if (DuckDbNative.duckdb_appender_flush(Pointer) != DuckDbNative.Success)
            throw new DuckDbException($"flushing rows into table {_table}", Utf8.Read(DuckDbNative.duckdb_appender_error(Pointer)));
    }

    /// <summary>Flushes and closes; the appender cannot be used afterwards.</summary>
    public void Close()
    {
        if (DuckDbNative.duckdb_appender_close(Pointer) != DuckDbNative.Success)
            throw new DuckDbException($"closing the appender of table {_table}", Utf8.Read(DuckDbNative.duckdb_appender_error(Pointer)));
    }

    private nint Pointer => _handle.Pointer;

    public void Dispose()
    {
        foreach (var t in ColumnTypes)
            t.Dispose();
        _handle.Dispose();
    }
}
