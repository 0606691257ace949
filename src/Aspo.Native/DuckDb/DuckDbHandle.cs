using System.Runtime.InteropServices;

namespace Aspo.Native.DuckDb;

internal enum DuckDbHandleKind { Database, Connection, Result, DataChunk, LogicalType, Appender }

/// <summary>An owned DuckDB object, destroyed with the C function of its kind (each takes a pointer to the handle).
/// For <see cref="DuckDbHandleKind.Result"/> the handle is a native copy of the <c>duckdb_result</c> struct.</summary>
internal sealed unsafe class DuckDbHandle : SafeHandle
{
    private readonly DuckDbHandleKind _kind;

    public DuckDbHandle(nint handle, DuckDbHandleKind kind) : base(0, ownsHandle: true)
    {
        _kind = kind;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == 0;

    /// <summary>The raw pointer; throws if the owner was disposed.</summary>
    public nint Pointer => IsClosed ? throw new ObjectDisposedException($"DuckDB {_kind}") : handle;

    protected override bool ReleaseHandle()
    {
        var h = handle;
        switch (_kind)
        {
            case DuckDbHandleKind.Database: DuckDbNative.duckdb_close(&h); break;
            case DuckDbHandleKind.Connection: DuckDbNative.duckdb_disconnect(&h); break;
            case DuckDbHandleKind.DataChunk: DuckDbNative.duckdb_destroy_data_chunk(&h); break;
            case DuckDbHandleKind.LogicalType: DuckDbNative.duckdb_destroy_logical_type(&h); break;
            case DuckDbHandleKind.Appender: DuckDbNative.duckdb_appender_destroy(&h); break;
            case DuckDbHandleKind.Result:
                DuckDbNative.duckdb_destroy_result((DuckDbResultStruct*)h);
                NativeMemory.Free((void*)h);
                break;
        }
        return true;
    }
}
