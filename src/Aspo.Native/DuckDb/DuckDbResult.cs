namespace Aspo.Native.DuckDb;

/// <summary>A materialized query result (<c>duckdb_result</c>), read chunk by chunk.</summary>
public sealed unsafe class DuckDbResult : IDisposable
{
    // the struct lives in native memory so its address is stable for the duckdb_* calls that take a pointer
    private readonly DuckDbHandle _handle;

    internal DuckDbResult(DuckDbResultStruct result)
    {
        var copy = (DuckDbResultStruct*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)sizeof(DuckDbResultStruct));
        *copy = result;
        _handle = new DuckDbHandle((nint)copy, DuckDbHandleKind.Result);
        var count = (int)DuckDbNative.duckdb_column_count(copy);
        var names = new string[count];
        var types = new DuckDbType[count];
        for (var i = 0; i < count; i++)
        {
            names[i] = Utf8.Read(DuckDbNative.duckdb_column_name(copy, (ulong)i));
            types[i] = (DuckDbType)DuckDbNative.duckdb_column_type(copy, (ulong)i);
        }
        ColumnNames = names;
        ColumnTypes = types;
    }

    public IReadOnlyList<string> ColumnNames { get; }
    public IReadOnlyList<DuckDbType> ColumnTypes { get; }
    public int ColumnCount => ColumnNames.Count;

    /// <summary>Rows changed by an INSERT/UPDATE/DELETE/COPY statement.</summary>
    public long RowsChanged => (long)DuckDbNative.duckdb_rows_changed(Ptr);

    /// <summary>The index of column <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">no such column; the message lists the columns</exception>
    public int ColumnIndex(string name)
    {
        for (var i = 0; i < ColumnNames.Count; i++)
            if (ColumnNames[i] == name)
                return i;
        throw new KeyNotFoundException($"the result has no column '{name}'; its columns are: {string.Join(", ", ColumnNames)}");
    }

    /// <summary>The next chunk of rows, or null when the result is exhausted. Dispose each chunk.</summary>
    /// <exception cref="DuckDbException">a streaming query failed while producing this chunk</exception>
    public DuckDbDataChunk? FetchChunk()
    {
        var chunk = DuckDbNative.duckdb_fetch_chunk(*Ptr);
        if (chunk != 0)
            return new DuckDbDataChunk(chunk);
        var error = DuckDbNative.duckdb_result_error(Ptr);
        if (error != null)
            throw new DuckDbException("reading a query result", Utf8.Read(error));
        return null;
    }

    private DuckDbResultStruct* Ptr => (DuckDbResultStruct*)_handle.Pointer;

    public void Dispose() => _handle.Dispose();
}
