namespace Aspo.Native;

/// <summary>
/// Native libraries that come with a NuGet package (ONNX Runtime, DuckDB) and sit next to the assemblies: when one is
/// missing, the package's own loader fails with a type-initialisation error; this turns it into one message naming
/// the file, the package and the folder it belongs in.
/// </summary>
public static class PackagedLibraries
{
    /// <summary>Whether <paramref name="e"/> (or an inner exception) is the loader failing to find or load a native library.</summary>
    public static bool IsMissingLibrary(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
                return true;
        return false;
    }

    public static NativeLibraryMissingException Missing(string fileName, string package, Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null)
            inner = inner.InnerException;
        return new NativeLibraryMissingException(fileName,
            $"native library {fileName} (NuGet package {package}) could not be loaded from {AppContext.BaseDirectory}: {inner.Message.Split('\n')[0]} " +
            "The build copies it there; rebuild (tools/aspo rebuilds when needed, or `dotnet build`), and run tools/setup on a new machine.");
    }
}
