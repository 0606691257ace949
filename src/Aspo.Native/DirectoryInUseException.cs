namespace Aspo.Native;

/// <summary>Another process holds the lock of a folder this process needs.</summary>
public sealed class DirectoryInUseException(string directory, string message) : AspoNativeException(message)
{
    public string Directory { get; } = directory;
}
