namespace Aspo.Native.DuckDb;

/// <summary>A DuckDB logical type (<c>duckdb_logical_type</c>): a primitive type or a LIST of one.</summary>
public sealed unsafe class DuckDbLogicalType : IDisposable
{
    private readonly DuckDbHandle _handle;

    internal DuckDbLogicalType(nint type) => _handle = new DuckDbHandle(type, DuckDbHandleKind.LogicalType);

    public static DuckDbLogicalType Create(DuckDbType type)
    {
        if (type is DuckDbType.List or DuckDbType.Struct or DuckDbType.Map or DuckDbType.Array or DuckDbType.Union or DuckDbType.Decimal or DuckDbType.Enum)
            throw new ArgumentException($"{type} needs its parameters; use {nameof(CreateList)} for lists", nameof(type));
        return new DuckDbLogicalType(DuckDbNative.duckdb_create_logical_type((int)type));
    }

    /// <summary>LIST of <paramref name="child"/>.</summary>
    public static DuckDbLogicalType CreateList(DuckDbLogicalType child) => new(DuckDbNative.duckdb_create_list_type(child.Pointer));

    public DuckDbType Id => (DuckDbType)DuckDbNative.duckdb_get_type_id(Pointer);

    /// <summary>"BIGINT", "VARCHAR", "FLOAT[]" … for messages.</summary>
    public override string ToString()
    {
        if (Id != DuckDbType.List)
            return Id.ToString().ToUpperInvariant();
        using var child = new DuckDbLogicalType(DuckDbNative.duckdb_list_type_child_type(Pointer));
        return child + "[]";
    }

    internal nint Pointer => _handle.Pointer;

    public void Dispose() => _handle.Dispose();
}
