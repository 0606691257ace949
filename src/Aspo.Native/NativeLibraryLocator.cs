using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Aspo.Native;

/// <summary>
/// Finds and loads native libraries. Order: the folder named by <c>ASPO_NATIVE_DIR</c>, then the
/// git-ignored <c>.native/</c> folder of the repository that <c>tools/setup</c> fills, then the system loader.
/// Loaded handles are cached for the life of the process.
/// </summary>
public sealed class NativeLibraryLocator
{
    public const string DirectoryVariable = "ASPO_NATIVE_DIR";
    public const string SetupCommand = "tools/setup";

    private readonly ConcurrentDictionary<string, IntPtr> _loaded = new();
    private readonly Lock _loadLock = new();

    /// <param name="overrideDirectory">value of <c>ASPO_NATIVE_DIR</c>, or null when unset</param>
    /// <param name="repositoryNativeDirectory">the repository's <c>.native/</c> folder, or null when there is none</param>
    /// <param name="useSystemLoader">whether to fall back to the system loader (ld.so search path)</param>
    public NativeLibraryLocator(string? overrideDirectory, string? repositoryNativeDirectory, bool useSystemLoader)
    {
        OverrideDirectory = string.IsNullOrWhiteSpace(overrideDirectory) ? null : overrideDirectory;
        RepositoryNativeDirectory = repositoryNativeDirectory;
        UseSystemLoader = useSystemLoader;
    }

    public string? OverrideDirectory { get; }
    public string? RepositoryNativeDirectory { get; }
    public bool UseSystemLoader { get; }

    /// <summary>The process-wide locator: <c>ASPO_NATIVE_DIR</c>, the nearest <c>.native/</c> above this assembly, the system.</summary>
    public static NativeLibraryLocator Default { get; } = new(
        Environment.GetEnvironmentVariable(DirectoryVariable),
        FindRepositoryNativeDirectory(AppContext.BaseDirectory),
        useSystemLoader: true);

    /// <summary>The nearest folder named <c>.native</c> in <paramref name="start"/> or one of its parents, or null.</summary>
    public static string? FindRepositoryNativeDirectory(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ".native");
            if (Directory.Exists(candidate))
                return candidate;
        }
        return null;
    }

    /// <summary>Loads <paramref name="lib"/> (once) and returns its handle.</summary>
    /// <exception cref="NativeLibraryMissingException">no search location has a loadable copy</exception>
    public IntPtr Load(NativeLibraryInfo lib)
    {
        if (_loaded.TryGetValue(lib.FileName, out var cached))
            return cached;
        lock (_loadLock)
        {
            if (_loaded.TryGetValue(lib.FileName, out cached))
                return cached;
            var handle = LoadUncached(lib);
            _loaded[lib.FileName] = handle;
            return handle;
        }
    }

    /// <summary>Where <see cref="Load"/> found <paramref name="lib"/>: a file path, or "system loader".</summary>
    public string Describe(NativeLibraryInfo lib)
    {
        foreach (var dir in new[] { OverrideDirectory, RepositoryNativeDirectory })
            if (dir is not null && File.Exists(Path.Combine(dir, lib.FileName)))
                return Path.GetFullPath(Path.Combine(dir, lib.FileName));
        return "system loader";
    }

    private IntPtr LoadUncached(NativeLibraryInfo lib)
    {
        var tried = new List<string>();
        foreach (var (label, dir) in new[] { ($"{DirectoryVariable}", OverrideDirectory), (".native/", RepositoryNativeDirectory) })
        {
            if (dir is null)
            {
                tried.Add($"{label}: not set");
                continue;
            }
            var path = Path.Combine(dir, lib.FileName);
            if (!File.Exists(path))
            {
                tried.Add($"{label} {dir}: no such file");
                continue;
            }
            if (NativeLibrary.TryLoad(path, out var handle))
                return handle;
            // present but not loadable (wrong architecture, missing dependency): say so, do not mask it
            throw new NativeLibraryMissingException(lib.FileName,
                $"native library {lib.FileName} ({lib.Description}) exists at {path} but could not be loaded " +
                $"(wrong architecture or a missing dependency; try `ldd {path}`). Re-run {SetupCommand}.");
        }
        if (UseSystemLoader)
        {
            if (NativeLibrary.TryLoad(lib.FileName, out var handle))
                return handle;
            tried.Add("system loader: not found");
        }
        throw new NativeLibraryMissingException(lib.FileName,
            $"native library {lib.FileName} ({lib.Description}) was not found. Searched: {string.Join("; ", tried)}. " +
            $"Run {SetupCommand} to install it (from the {lib.InstalledBy}), or set {DirectoryVariable} to a folder that contains {lib.FileName}.");
    }
}
