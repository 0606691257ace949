using Aspo.Native;
using Microsoft.ML.OnnxRuntime;

namespace Aspo.Onnx;

/// <summary>
/// ONNX Runtime through its maintained .NET package (<c>Microsoft.ML.OnnxRuntime</c>, the version ONNX Runtime GenAI is
/// built against): one process-wide environment (warnings and errors only, telemetry off), sessions created from files
/// or bytes with one clear error naming the model, and tensors over managed memory without copies.
/// </summary>
public static class OnnxRuntime
{
    /// <summary>The build property that selects the package: cpu (Microsoft.ML.OnnxRuntime) or cuda (Microsoft.ML.OnnxRuntime.Gpu).</summary>
    public const string BackendProperty = "OnnxBackend";

    /// <summary>The package this build references.</summary>
#if ONNX_CUDA
    public const string Package = "Microsoft.ML.OnnxRuntime.Gpu 1.31.0";
#else
    public const string Package = "Microsoft.ML.OnnxRuntime 1.31.0";
#endif

    private static readonly Lazy<OrtEnv> Environment = new(() =>
    {
        var options = new EnvironmentCreationOptions { logId = "aspo", logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING };
        try
        {
            var env = OrtEnv.IsCreated ? OrtEnv.Instance() : OrtEnv.CreateInstanceWithOptions(ref options);
            env.DisableTelemetryEvents(); // a no-op on Linux builds today; stated so that no build ever sends any
            return env;
        }
        catch (Exception e) when (PackagedLibraries.IsMissingLibrary(e))
        {
            throw PackagedLibraries.Missing("libonnxruntime.so", Package, e);
        }
    });

    /// <summary>The loaded library's version, e.g. "1.31.0".</summary>
    public static string Version => Environment.Value.GetVersionString();

    /// <summary>Execution providers compiled into the loaded library.</summary>
    public static IReadOnlyList<string> Providers => Environment.Value.GetAvailableProviders();

    /// <summary>A session on the model file at <paramref name="path"/> (external data found next to it).</summary>
    /// <exception cref="Aspo.Model.ModelFormatException">ONNX Runtime cannot load the model</exception>
    /// <exception cref="ArgumentException">a device this build cannot use</exception>
    public static InferenceSession Open(string path, OnnxSessionSettings settings) =>
        Create(path, settings, options => new InferenceSession(path, options));

    /// <summary>A session on an in-memory model; <paramref name="description"/> names it in errors.</summary>
    public static InferenceSession Open(byte[] model, OnnxSessionSettings settings, string description) =>
        Create(description, settings, options => new InferenceSession(model, options));

    /// <summary>A tensor over <paramref name="memory"/> (pinned while the value lives; no copy).</summary>
    public static OrtValue Tensor<T>(Memory<T> memory, params long[] shape) where T : unmanaged =>
        OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, memory, shape);

    /// <summary>Runs <paramref name="session"/> into pre-allocated outputs; a runtime failure names <paramref name="model"/>.</summary>
    public static void Run(InferenceSession session, string model, IReadOnlyCollection<string> inputNames, IReadOnlyCollection<OrtValue> inputs,
        IReadOnlyCollection<string> outputNames, IReadOnlyCollection<OrtValue> outputs)
    {
        try
        {
            session.Run(null, inputNames, inputs, outputNames, outputs);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxRunException($"{model}: ONNX Runtime failed to run the model: {e.Message}", e);
        }
    }

    private static InferenceSession Create(string source, OnnxSessionSettings settings, Func<SessionOptions, InferenceSession> create)
    {
        _ = Environment.Value;
        using var options = new SessionOptions
        {
            IntraOpNumThreads = settings.Threads,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_WARNING,
        };
        if (!settings.AllowSpinning)
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        AddDevice(options, settings.Device);
        try
        {
            return create(options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new Aspo.Model.ModelFormatException($"{source}: ONNX Runtime cannot load the model: {e.Message}");
        }
    }

    private static void AddDevice(SessionOptions options, string device)
    {
        if (device == "cpu")
            return;
        if (!(device == "cuda" || device.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(device.AsSpan(5), out var n) && n >= 0))
            throw new ArgumentException($"ONNX Runtime device '{device}': expected cpu, cuda or cuda:N");
        var id = device == "cuda" ? 0 : int.Parse(device.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
        var providers = Providers;
        if (!providers.Contains("CUDAExecutionProvider"))
            throw new ArgumentException($"ONNX Runtime device {device}: this build ({Package}) has no CUDA execution provider (it has {string.Join(", ", providers)}); " +
                $"build with -p:{BackendProperty}=cuda (Microsoft.ML.OnnxRuntime.Gpu 1.31.0, CUDA 12 and cuDNN 9 installed)");
        try
        {
            options.AppendExecutionProvider_CUDA(id);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ArgumentException($"ONNX Runtime device {device}: the CUDA execution provider does not start: {e.Message}");
        }
    }
}
