namespace Aspo.Native.DuckDb;

/// <summary>
/// A data chunk (<c>duckdb_data_chunk</c>): up to <see cref="DuckDbDatabase.VectorSize"/> rows, one vector per column.
/// Either fetched from a result (read it) or created for an appender (fill it, set <see cref="Size"/>, append).
/// </summary>
public sealed unsafe class DuckDbDataChunk : IDisposable
{
    private readonly DuckDbHandle _handle;

    internal DuckDbDataChunk(nint chunk) => _handle = new DuckDbHandle(chunk, DuckDbHandleKind.DataChunk);

    /// <summary>An empty chunk with one column of each of <paramref name="types"/>.</summary>
    public static DuckDbDataChunk Create(IReadOnlyList<DuckDbLogicalType> types)
    {
        var pointers = stackalloc nint[types.Count];
        for (var i = 0; i < types.Count; i++)
            pointers[i] = types[i].Pointer;
        return new DuckDbDataChunk(DuckDbNative.duckdb_create_data_chunk(pointers, (ulong)types.Count));
    }

    public int ColumnCount => (int)DuckDbNative.duckdb_data_chunk_get_column_count(Pointer);

    /// <summary>Rows in the chunk. Set it after filling the vectors of a chunk to append.</summary>
    public int Size
    {
        get => (int)DuckDbNative.duckdb_data_chunk_get_size(Pointer);
        set
        {
            if (value < 0 || value > DuckDbDatabase.VectorSize)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"a data chunk holds 0 to {DuckDbDatabase.VectorSize} rows");
            DuckDbNative.duckdb_data_chunk_set_size(Pointer, (ulong)value);
        }
    }

    /// <summary>The vector of column <paramref name="column"/>.</summary>
    public DuckDbVector GetVector(int column)
    {
        if ((uint)column >= (uint)ColumnCount)
            throw new ArgumentOutOfRangeException(nameof(column), column, $"the chunk has {ColumnCount} columns");
        return new DuckDbVector(DuckDbNative.duckdb_data_chunk_get_vector(Pointer, (ulong)column));
    }

    /// <summary>Empties the chunk for reuse (size 0, list children emptied).</summary>
    public void Reset() => DuckDbNative.duckdb_data_chunk_reset(Pointer);

    internal nint Pointer => _handle.Pointer;

    public void Dispose() => _handle.Dispose();
}

/// <summary>
/// One column of a data chunk (<c>duckdb_vector</c>), valid while its chunk lives. Fixed-width values are a
/// span over DuckDB's buffer; VARCHAR values are 16-byte <c>duckdb_string_t</c>; LIST values are
/// (offset, length) entries into a child vector.
/// </summary>
public readonly unsafe struct DuckDbVector
{
    private readonly nint _vector;

    internal DuckDbVector(nint vector) => _vector = vector;

    /// <summary>The first <paramref name="count"/> values, in place. <typeparamref name="T"/> must match the column's physical type.</summary>
    public Span<T> GetData<T>(int count) where T : unmanaged => new(DuckDbNative.duckdb_vector_get_data(_vector), count);

    /// <summary>Whether row <paramref name="row"/> is not NULL.</summary>
    public bool IsValid(int row)
    {
        var validity = DuckDbNative.duckdb_vector_get_validity(_vector);
        return validity == null || (validity[row >> 6] & (1UL << (row & 63))) != 0;
    }

    /// <summary>Marks row <paramref name="row"/> NULL.</summary>
    public void SetNull(int row)
    {
        DuckDbNative.duckdb_vector_ensure_validity_writable(_vector);
        DuckDbNative.duckdb_validity_set_row_invalid(DuckDbNative.duckdb_vector_get_validity(_vector), (ulong)row);
    }

    /// <summary>The UTF-8 bytes of VARCHAR/BLOB row <paramref name="row"/> (valid while the chunk lives).</summary>
    public ReadOnlySpan<byte> GetStringBytes(int row)
    {
        // duckdb_string_t: uint32 length, then either 12 inlined bytes (length <= 12) or a 4-byte prefix and a pointer
        var s = (byte*)DuckDbNative.duckdb_vector_get_data(_vector) + 16L * row;
        var length = *(uint*)s;
        return length <= 12 ? new ReadOnlySpan<byte>(s + 4, (int)length) : new ReadOnlySpan<byte>(*(byte**)(s + 8), (int)length);
    }

    public string GetString(int row) => System.Text.Encoding.UTF8.GetString(GetStringBytes(row));

    /// <summary>Sets VARCHAR row <paramref name="row"/> (DuckDB copies the bytes).</summary>
    public void SetString(int row, ReadOnlySpan<byte> utf8)
    {
        fixed (byte* p = utf8)
            DuckDbNative.duckdb_vector_assign_string_element_len(_vector, (ulong)row, p, (ulong)utf8.Length);
    }

    public void SetString(int row, string value)
    {
        var count = System.Text.Encoding.UTF8.GetByteCount(value);
        if (count <= 1024)
        {
            Span<byte> buffer = stackalloc byte[count];
            System.Text.Encoding.UTF8.GetBytes(value, buffer);
            SetString(row, buffer);
        }
        else
        {
            SetString(row, System.Text.Encoding.UTF8.GetBytes(value));
        }
    }

    /// <summary>The list entries of the first <paramref name="count"/> rows of a LIST vector.</summary>
    public Span<DuckDbListEntry> GetListEntries(int count) => GetData<DuckDbListEntry>(count);

    /// <summary>The child vector holding the elements of every list of a LIST vector.</summary>
    public DuckDbVector ListChild => new(DuckDbNative.duckdb_list_vector_get_child(_vector));

    /// <summary>Elements currently in the child vector of a LIST vector.</summary>
    public int ListSize => (int)DuckDbNative.duckdb_list_vector_get_size(_vector);

    /// <summary>Sets LIST row <paramref name="row"/> to <paramref name="values"/>, appending them to the child vector.</summary>
    public void AppendList<T>(int row, ReadOnlySpan<T> values) where T : unmanaged
    {
        var offset = DuckDbNative.duckdb_list_vector_get_size(_vector);
        var newSize = offset + (ulong)values.Length;
        if (DuckDbNative.duckdb_list_vector_reserve(_vector, newSize) != DuckDbNative.Success)
            throw new DuckDbException("growing a LIST vector", $"could not reserve {newSize} elements");
        // the child's buffer may have moved during reserve: take its data pointer only now
        var child = new Span<T>(DuckDbNative.duckdb_vector_get_data(DuckDbNative.duckdb_list_vector_get_child(_vector)), checked((int)newSize));
        values.CopyTo(child[(int)offset..]);
        if (DuckDbNative.duckdb_list_vector_set_size(_vector, newSize) != DuckDbNative.Success)
            throw new DuckDbException("growing a LIST vector", $"could not set its size to {newSize}");
        GetListEntries(row + 1)[row] = new DuckDbListEntry { Offset = offset, Length = (ulong)values.Length };
    }
}
