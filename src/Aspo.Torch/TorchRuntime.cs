using Aspo.Native;
using TorchSharp;

namespace Aspo.Torch;

/// <summary>
/// Starts LibTorch for this process: on the CPU build the native libraries prepared by tools/setup are loaded first
/// (<see cref="LibTorchNative.Preload"/>), then TorchSharp initialises the device. Devices: "cpu", "cuda", "cuda:N".
/// </summary>
public static class TorchRuntime
{
    /// <summary>The MSBuild property that selects the LibTorch build.</summary>
    public const string BackendProperty = "TorchBackend";

#if TORCH_CUDA
    public const string Build = "cuda";
#else
    public const string Build = "cpu";
#endif

    private static readonly Lock s_lock = new();
    private static bool s_started;

    /// <summary>Loads LibTorch once. <exception cref="NativeLibraryMissingException">LibTorch cannot be loaded; the message says why</exception></summary>
    public static void Start()
    {
        lock (s_lock)
        {
            if (s_started)
                return;
#if !TORCH_CUDA
            LibTorchNative.Preload();
            LibTorchNative.KeepLargeBlocksOnTheHeap(); // CUDA builds use LibTorch's caching allocator instead
#endif
            torch.InitializeDeviceType(DeviceType.CPU);
            s_started = true;
        }
    }

    /// <summary>The TorchSharp device for <paramref name="name"/>; a CUDA device on a CPU build, or without a usable GPU,
    /// is one clear error.</summary>
    public static torch.Device Device(string name)
    {
        Start();
        if (name == "cpu")
            return torch.CPU;
        if (name != "cuda" && !name.StartsWith("cuda:", StringComparison.Ordinal))
            throw new ArgumentException($"learner.device '{name}': expected cpu, cuda or cuda:N");
#if TORCH_CUDA
        if (!torch.cuda.is_available())
            throw new ArgumentException($"learner.device '{name}': this build uses TorchSharp-cuda-linux but LibTorch finds no usable CUDA device");
        return torch.device(name);
#else
        throw new ArgumentException($"learner.device '{name}': this build of aspo uses LibTorch for the CPU; build with -p:{BackendProperty}=cuda " +
            "(TorchSharp-cuda-linux 0.107.0, LibTorch 2.10 for CUDA 12.8) to train on a GPU");
#endif
    }

    /// <summary>LibTorch's version, e.g. "2.10.0" (TorchSharp reports four parts).</summary>
    public static string Version
    {
        get
        {
            Start();
            var v = torch.__version__;
            return v.EndsWith(".0", StringComparison.Ordinal) && v.Count(ch => ch == '.') == 3 ? v[..^2] : v;
        }
    }

    /// <summary>One line: LibTorch version, build, threads, BLAS and oneDNN as LibTorch reports them.</summary>
    public static string Describe()
    {
        Start();
#if TORCH_CUDA
        var config = "";
#else
        var config = LibTorchNative.ShowConfig();
#endif
        // e.g. "Intel(R) oneAPI Math Kernel Library Version 2024.2-Product Build …" → "MKL 2024.2"; "Intel(R) MKL-DNN v3.7.1 (…)" → "oneDNN 3.7.1"
        string Line(string contains) => config.Split('\n').Select(l => l.Trim().TrimStart('-', ' ')).FirstOrDefault(l => l.Contains(contains, StringComparison.Ordinal)) ?? "";
        string Word(string line, string after) => line.Contains(after, StringComparison.Ordinal) ? line[(line.IndexOf(after, StringComparison.Ordinal) + after.Length)..].Split(' ', '-')[0] : "";
        var parts = new List<string>();
        if (Word(Line("Math Kernel Library"), "Version ") is { Length: > 0 } mkl)
            parts.Add($"BLAS MKL {mkl}");
        if (Word(Line("MKL-DNN"), "MKL-DNN v") is { Length: > 0 } onednn)
            parts.Add($"oneDNN {onednn}");
        if (Line("OpenMP") is { Length: > 0 } openmp)
            parts.Add(openmp.Split(' ').Take(2).Aggregate((a, b) => a + " " + b));
        if (Line("CPU capability usage") is { Length: > 0 } capability)
            parts.Add(capability.Replace("CPU capability usage: ", "CPU ", StringComparison.Ordinal));
        return $"LibTorch {Version} ({Build} build, {torch.get_num_threads()} threads{string.Concat(parts.Select(p => "; " + p))})";
    }
}
