using System.Runtime.InteropServices;

namespace Aspo.Native.DuckDb;

/// <summary><c>duckdb_type</c> (duckdb.h): the physical type tag of a column or vector.</summary>
public enum DuckDbType
{
    Invalid = 0, Boolean = 1, TinyInt = 2, SmallInt = 3, Integer = 4, BigInt = 5, UTinyInt = 6, USmallInt = 7,
    UInteger = 8, UBigInt = 9, Float = 10, Double = 11, Timestamp = 12, Date = 13, Time = 14, Interval = 15,
    HugeInt = 16, Varchar = 17, Blob = 18, Decimal = 19, TimestampS = 20, TimestampMs = 21, TimestampNs = 22,
    Enum = 23, List = 24, Struct = 25, Map = 26, Uuid = 27, Union = 28, Bit = 29, TimeTz = 30, TimestampTz = 31,
    UHugeInt = 32, Array = 33, Any = 34, BigNum = 35, SqlNull = 36,
}

/// <summary><c>duckdb_result</c>: six pointer-sized fields (five deprecated, then <c>internal_data</c>).
/// Only ever touched through the C functions; its layout matters because <c>duckdb_fetch_chunk</c> takes it by value.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DuckDbResultStruct
{
    public nint DeprecatedColumnCount;
    public nint DeprecatedRowCount;
    public nint DeprecatedRowsChanged;
    public nint DeprecatedColumns;
    public nint DeprecatedErrorMessage;
    public nint InternalData;
}

/// <summary><c>duckdb_list_entry</c>: where one row's list sits in the child vector.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct DuckDbListEntry
{
    public ulong Offset;
    public ulong Length;
}

/// <summary>The DuckDB C API (duckdb.h, DuckDB 1.5). Handles are opaque pointers; states are 0 = success, 1 = error.</summary>
internal static unsafe partial class DuckDbNative
{
    private const string Lib = "duckdb"; // resolved by NativeLibraries to libduckdb.so

    public const int Success = 0;

    [LibraryImport(Lib)] public static partial byte* duckdb_library_version();
    [LibraryImport(Lib)] public static partial ulong duckdb_vector_size();
    [LibraryImport(Lib)] public static partial void duckdb_free(void* p);

    [LibraryImport(Lib)] public static partial int duckdb_open_ext(byte* path, nint* database, nint config, byte** error);
    [LibraryImport(Lib)] public static partial void duckdb_close(nint* database);
    [LibraryImport(Lib)] public static partial int duckdb_connect(nint database, nint* connection);
    [LibraryImport(Lib)] public static partial void duckdb_disconnect(nint* connection);

    [LibraryImport(Lib)] public static partial int duckdb_query(nint connection, byte* sql, DuckDbResultStruct* result);
    [LibraryImport(Lib)] public static partial void duckdb_destroy_result(DuckDbResultStruct* result);
    [LibraryImport(Lib)] public static partial byte* duckdb_result_error(DuckDbResultStruct* result);
    [LibraryImport(Lib)] public static partial ulong duckdb_column_count(DuckDbResultStruct* result);
    [LibraryImport(Lib)] public static partial byte* duckdb_column_name(DuckDbResultStruct* result, ulong column);
    [LibraryImport(Lib)] public static partial int duckdb_column_type(DuckDbResultStruct* result, ulong column);
    [LibraryImport(Lib)] public static partial nint duckdb_column_logical_type(DuckDbResultStruct* result, ulong column);
    [LibraryImport(Lib)] public static partial ulong duckdb_rows_changed(DuckDbResultStruct* result);
    [LibraryImport(Lib)] public static partial nint duckdb_fetch_chunk(DuckDbResultStruct result);

    [LibraryImport(Lib)] public static partial int duckdb_prepare(nint connection, byte* sql, nint* prepared);
    [LibraryImport(Lib)] public static partial byte* duckdb_prepare_error(nint prepared);
    [LibraryImport(Lib)] public static partial void duckdb_destroy_prepare(nint* prepared);
    [LibraryImport(Lib)] public static partial int duckdb_pending_prepared_streaming(nint prepared, nint* pending);
    [LibraryImport(Lib)] public static partial byte* duckdb_pending_error(nint pending);
    [LibraryImport(Lib)] public static partial int duckdb_execute_pending(nint pending, DuckDbResultStruct* result);
    [LibraryImport(Lib)] public static partial void duckdb_destroy_pending(nint* pending);

    [LibraryImport(Lib)] public static partial nint duckdb_create_logical_type(int type);
    [LibraryImport(Lib)] public static partial nint duckdb_create_list_type(nint childType);
    [LibraryImport(Lib)] public static partial int duckdb_get_type_id(nint logicalType);
    [LibraryImport(Lib)] public static partial nint duckdb_list_type_child_type(nint logicalType);
    [LibraryImport(Lib)] public static partial void duckdb_destroy_logical_type(nint* logicalType);

    [LibraryImport(Lib)] public static partial nint duckdb_create_data_chunk(nint* types, ulong columnCount);
    [LibraryImport(Lib)] public static partial void duckdb_destroy_data_chunk(nint* chunk);
    [LibraryImport(Lib)] public static partial void duckdb_data_chunk_reset(nint chunk);
    [LibraryImport(Lib)] public static partial ulong duckdb_data_chunk_get_column_count(nint chunk);
    [LibraryImport(Lib)] public static partial ulong duckdb_data_chunk_get_size(nint chunk);
    [LibraryImport(Lib)] public static partial void duckdb_data_chunk_set_size(nint chunk, ulong size);
    [LibraryImport(Lib)] public static partial nint duckdb_data_chunk_get_vector(nint chunk, ulong column);

    [LibraryImport(Lib)] public static partial nint duckdb_vector_get_column_type(nint vector);
    [LibraryImport(Lib)] public static partial void* duckdb_vector_get_data(nint vector);
    [LibraryImport(Lib)] public static partial ulong* duckdb_vector_get_validity(nint vector);
    [LibraryImport(Lib)] public static partial void duckdb_vector_ensure_validity_writable(nint vector);
    [LibraryImport(Lib)] public static partial void duckdb_vector_assign_string_element_len(nint vector, ulong index, byte* str, ulong length);
    [LibraryImport(Lib)] public static partial nint duckdb_list_vector_get_child(nint vector);
    [LibraryImport(Lib)] public static partial ulong duckdb_list_vector_get_size(nint vector);
    [LibraryImport(Lib)] public static partial int duckdb_list_vector_set_size(nint vector, ulong size);
    [LibraryImport(Lib)] public static partial int duckdb_list_vector_reserve(nint vector, ulong capacity);
    [LibraryImport(Lib)] public static partial void duckdb_validity_set_row_invalid(ulong* validity, ulong row);

    [LibraryImport(Lib)] public static partial int duckdb_appender_create(nint connection, byte* schema, byte* table, nint* appender);
    [LibraryImport(Lib)] public static partial byte* duckdb_appender_error(nint appender);
    [LibraryImport(Lib)] public static partial ulong duckdb_appender_column_count(nint appender);
    [LibraryImport(Lib)] public static partial nint duckdb_appender_column_type(nint appender, ulong column);
    [LibraryImport(Lib)] public static partial int duckdb_append_data_chunk(nint appender, nint chunk);
    [LibraryImport(Lib)] public static partial int duckdb_appender_flush(nint appender);
    [LibraryImport(Lib)] public static partial int duckdb_appender_close(nint appender);
    [LibraryImport(Lib)] public static partial int duckdb_appender_destroy(nint* appender);
}
