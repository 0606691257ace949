namespace Aspo.Native;

/// <summary>A native library could not be found or loaded. The message names the library,
/// every place that was searched and the command that installs it.</summary>
public sealed class NativeLibraryMissingException : AspoNativeException
{
    public NativeLibraryMissingException(string libraryFileName, string message) : base(message)
        => LibraryFileName = libraryFileName;

    public string LibraryFileName { get; }
}
