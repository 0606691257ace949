namespace Aspo.Native.DuckDb;

/// <summary>A DuckDB database (<c>duckdb_database</c>), in memory or in a file.</summary>
public sealed unsafe class DuckDbDatabase : IDisposable
{
    private readonly DuckDbHandle _handle;

    private DuckDbDatabase(nint database) => _handle = new DuckDbHandle(database, DuckDbHandleKind.Database);

    /// <summary>The loaded library's version, e.g. "v1.5.6".</summary>
    public static string LibraryVersion => Utf8.Read(DuckDbNative.duckdb_library_version());

    /// <summary>Rows per data chunk (DuckDB's <c>STANDARD_VECTOR_SIZE</c>, 2048 in release builds).</summary>
    public static int VectorSize => (int)DuckDbNative.duckdb_vector_size();

    /// <summary>Opens (or creates) the database file at <paramref name="path"/>, or an in-memory database when it is null.</summary>
    public static DuckDbDatabase Open(string? path = null)
    {
        nint database;
        byte* error = null;
        int state;
        fixed (byte* p = path is null ? null : Utf8.NullTerminated(path))
            state = DuckDbNative.duckdb_open_ext(p, &database, 0, &error);
        if (state != DuckDbNative.Success)
        {
            var message = error == null ? "unknown error" : Utf8.Read(error);
            DuckDbNative.duckdb_free(error);
            throw new DuckDbException($"opening DuckDB database {path ?? ":memory:"}", message);
        }
        return new DuckDbDatabase(database);
    }

    /// <summary>A new connection to this database.</summary>
    public DuckDbConnection Connect()
    {
        nint connection;
        if (DuckDbNative.duckdb_connect(_handle.Pointer, &connection) != DuckDbNative.Success)
            throw new DuckDbException("connecting to DuckDB", "duckdb_connect failed");
        return new DuckDbConnection(connection);
    }

    public void Dispose() => _handle.Dispose();
}
