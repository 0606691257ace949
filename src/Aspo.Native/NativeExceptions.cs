namespace Aspo.Native;

/// <summary>Base of every error raised by a native runtime call; carries the runtime's own message.</summary>
public class AspoNativeException : Exception
{
    public AspoNativeException(string message) : base(message) { }
    public AspoNativeException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A native library could not be found or loaded. The message names the library,
/// every place that was searched and the command that installs it.</summary>
public sealed class NativeLibraryMissingException : AspoNativeException
{
    public NativeLibraryMissingException(string libraryFileName, string message) : base(message)
        => LibraryFileName = libraryFileName;

    public string LibraryFileName { get; }
}

/// <summary>Another process holds the lock of a folder this process needs.</summary>
public sealed class DirectoryInUseException(string directory, string message) : AspoNativeException(message)
{
    public string Directory { get; } = directory;
}
