namespace Aspo.Native.DuckDb;

/// <summary>A DuckDB call failed; <see cref="NativeMessage"/> is DuckDB's own text, the message says what we were doing.</summary>
public sealed class DuckDbException : AspoNativeException
{
    public DuckDbException(string context, string nativeMessage)
        : base($"{context}: {nativeMessage}")
        => NativeMessage = nativeMessage;

    public string NativeMessage { get; }
}
