using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Aspo.Native;

/// <summary>The native libraries this project binds itself (ONNX Runtime, DuckDB and LibTorch come with their NuGet packages).</summary>
public static class NativeLibraries
{
    public static readonly NativeLibraryInfo OpenBlas = new(
        "openblas", "libopenblas.so.0", "OpenBLAS (pthread build)",
        "Debian package libopenblas0-pthread");

    public static readonly NativeLibraryInfo OneDnn = new(
        "dnnl", "libdnnl.so.2", "oneDNN 2.x",
        "Debian package libdnnl2");

    public static readonly NativeLibraryInfo OpenMp = new(
        "gomp", "libgomp.so.1", "GNU OpenMP runtime (oneDNN's worker threads)",
        "Debian package libgomp1, a dependency of libdnnl2");

    public static IReadOnlyList<NativeLibraryInfo> All { get; } = [OpenBlas, OneDnn, OpenMp];

    /// <summary>Every <c>[LibraryImport]</c> of this assembly is resolved through <see cref="NativeLibraryLocator.Default"/>,
    /// so a missing library is one <see cref="NativeLibraryMissingException"/>, not a bare <see cref="DllNotFoundException"/>.</summary>
#pragma warning disable CA2255 // the resolver has to be in place before the first P/Invoke of this assembly
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RegisterResolver() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, ResolveImport);

    private static IntPtr ResolveImport(string importName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        foreach (var lib in All)
            if (lib.ImportName == importName)
                return NativeLibraryLocator.Default.Load(lib);
        return IntPtr.Zero; // not ours: default probing
    }
}
