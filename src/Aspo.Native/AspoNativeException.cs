namespace Aspo.Native;

/// <summary>Base of every error raised by a native runtime call; carries the runtime's own message.</summary>
public class AspoNativeException : Exception
{
    public AspoNativeException(string message) : base(message) { }
    public AspoNativeException(string message, Exception inner) : base(message, inner) { }
}
