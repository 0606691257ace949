using System.Runtime.InteropServices;

namespace Aspo.Native;

/// <summary>
/// LibTorch, the native half of TorchSharp, as <c>tools/setup</c> prepares it in <c>.native/torchsharp/</c>: the
/// package's <c>libLibTorchSharp.so</c> (patched where the system libstdc++ predates GCC 13, see tools/setup) next to
/// links to <c>libtorch*.so</c> of the NuGet package <c>libtorch-cpu-linux-x64</c>. Loading it by path before
/// TorchSharp's first call makes TorchSharp's own lookup by name find it already loaded (the loader matches the
/// SONAME), so TorchSharp never falls back to copying ~600 MB of libraries next to the program, and a failure is
/// reported with the loader's own message instead of TorchSharp's "doesn't contain a reference to libtorch-cpu".
/// </summary>
public static partial class LibTorchNative
{
    public const string FolderName = "torchsharp";
    public const string BindingFile = "libLibTorchSharp.so";
    public const string TorchCpuFile = "libtorch_cpu.so";
    public const string Packages = "TorchSharp 0.107.0 and libtorch-cpu-linux-x64 2.10.0 (NuGet)";

    private static readonly Lock s_lock = new();
    private static string? s_loadedFrom;

    /// <summary>The folder holding the prepared LibTorch: <c>$ASPO_NATIVE_DIR/torchsharp</c>, else <c>.native/torchsharp</c>.</summary>
    public static string? Folder
    {
        get
        {
            var locator = NativeLibraryLocator.Default;
            foreach (var dir in new[] { locator.OverrideDirectory, locator.RepositoryNativeDirectory })
                if (dir is not null && File.Exists(Path.Combine(dir, FolderName, BindingFile)))
                    return Path.Combine(dir, FolderName);
            return null;
        }
    }

    /// <summary>Loads libLibTorchSharp.so (and with it LibTorch) once; returns the file loaded.</summary>
    /// <exception cref="NativeLibraryMissingException">not prepared, or the loader refused it (its message included)</exception>
    public static string Preload()
    {
        lock (s_lock)
        {
            if (s_loadedFrom is not null)
                return s_loadedFrom;
            var folder = Folder ?? throw new NativeLibraryMissingException(BindingFile,
                $"LibTorch for the torch learner is not installed: no {FolderName}/{BindingFile} under {NativeLibraryLocator.DirectoryVariable} or .native/. " +
                $"Run {NativeLibraryLocator.SetupCommand} (it restores {Packages} and prepares .native/{FolderName}/).");
            var path = Path.Combine(folder, BindingFile);
            try
            {
                NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                // .NET's message ends with the dynamic loader's own reason, e.g. "version `GLIBCXX_3.4.32' not found"
                var reason = e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[^1];
                throw new NativeLibraryMissingException(BindingFile,
                    $"LibTorch could not be loaded from {path}: {reason}. Re-run {NativeLibraryLocator.SetupCommand} " +
                    "(it builds the libstdc++ shim this machine needs and relinks the NuGet cache's LibTorch).");
            }
            return s_loadedFrom = path;
        }
    }

    private const int MallocTrimThreshold = -1; // glibc's mallopt parameters (malloc.h)
    private const int MallocMmapMax = -4;

    /// <summary>
    /// Makes glibc serve LibTorch's large tensors from the heap and keep freed ones for reuse: M_MMAP_MAX = 0 (no mmap
    /// per block) and M_TRIM_THRESHOLD = −1 (never trim the heap's top, mallopt(3)). LibTorch's CPU allocator hands every tensor straight to malloc, and glibc
    /// maps blocks above its mmap threshold (32 MB at most) afresh each time, so every step page-faulted and zeroed all
    /// its activations and weight gradients again: on the Qwen2.5-0.5B shapes the kernel's share of a step fell from
    /// ~60 s to ~16 s of 4 steps, and a bf16 step from 9.4–9.9 s to 6.6–7.0 s. Process-wide; call
    /// <see cref="ReleaseFreeMemory"/> when the learner is done.
    /// </summary>
    public static void KeepLargeBlocksOnTheHeap()
    {
        if (mallopt(MallocMmapMax, 0) != 1 || mallopt(MallocTrimThreshold, -1) != 1)
            throw new AspoNativeException("mallopt(M_MMAP_MAX / M_TRIM_THRESHOLD) failed");
    }

    /// <summary>Returns the heap's free memory to the system (glibc malloc_trim).</summary>
    public static void ReleaseFreeMemory() => malloc_trim(0);

    [LibraryImport("libc.so.6")]
    private static partial int mallopt(int parameter, int value);

    [LibraryImport("libc.so.6")]
    private static partial int malloc_trim(nuint pad);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr StringReturningCall(IntPtr result);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void OperatorDelete(IntPtr pointer);

    /// <summary>
    /// <c>at::show_config()</c>: LibTorch's build configuration (compiler, BLAS, oneDNN, OpenMP, CPU capability),
    /// which TorchSharp does not expose. The C++ function returns a <c>std::string</c> (libstdc++'s C++11 layout:
    /// data pointer, length, 16-byte local buffer) through a hidden result pointer, the System V x86-64 convention.
    /// </summary>
    public static string ShowConfig()
    {
        Preload();
        var lib = NativeLibrary.Load(Path.Combine(Folder!, TorchCpuFile));
        var call = Marshal.GetDelegateForFunctionPointer<StringReturningCall>(NativeLibrary.GetExport(lib, "_ZN2at11show_configB5cxx11Ev"));
        var result = Marshal.AllocHGlobal(32); // sizeof(std::string)
        try
        {
            call(result);
            var data = Marshal.ReadIntPtr(result, 0);
            var length = Marshal.ReadInt64(result, 8);
            var text = Marshal.PtrToStringUTF8(data, checked((int)length));
            if (data != result + 16) // heap storage (not the small-string buffer): free it as std::string would
            {
                var libstdcxx = NativeLibrary.Load("libstdc++.so.6");
                Marshal.GetDelegateForFunctionPointer<OperatorDelete>(NativeLibrary.GetExport(libstdcxx, "_ZdlPv"))(data);
            }
            return text;
        }
        finally
        {
            Marshal.FreeHGlobal(result);
        }
    }
}
