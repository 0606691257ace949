namespace Aspo.Native.Ort;

/// <summary>An <c>OrtSessionOptions</c>: threads, graph optimisation, config entries and execution providers.</summary>
public sealed unsafe class OrtSessionOptions : IDisposable
{
    private readonly OrtHandle _handle;

    public OrtSessionOptions()
    {
        nint options;
        OrtApi.Check(OrtApi.CreateSessionOptions(&options), "creating session options");
        _handle = new OrtHandle(options, OrtApi.ReleaseSessionOptionsSlot);
    }

    internal nint Pointer => _handle.Pointer;

    /// <summary>Threads used inside one operator; 0 lets ONNX Runtime choose.</summary>
    public void SetIntraOpThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        OrtApi.Check(OrtApi.SetIntraOpNumThreads(Pointer, threads), $"setting intra-op threads to {threads}");
    }

    /// <summary>Threads used to run independent operators in parallel (only with <see cref="OrtExecutionMode.Parallel"/>).</summary>
    public void SetInterOpThreads(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        OrtApi.Check(OrtApi.SetInterOpNumThreads(Pointer, threads), $"setting inter-op threads to {threads}");
    }

    public void SetGraphOptimizationLevel(OrtGraphOptimizationLevel level) =>
        OrtApi.Check(OrtApi.SetSessionGraphOptimizationLevel(Pointer, level), $"setting graph optimization level {level}");

    public void SetExecutionMode(OrtExecutionMode mode) =>
        OrtApi.Check(OrtApi.SetSessionExecutionMode(Pointer, mode), $"setting execution mode {mode}");

    /// <summary>A session configuration entry, e.g. <c>session.intra_op.allow_spinning = 0</c>.</summary>
    public void AddConfigEntry(string key, string value)
    {
        fixed (byte* k = Utf8.NullTerminated(key))
        fixed (byte* v = Utf8.NullTerminated(value))
            OrtApi.Check(OrtApi.AddSessionConfigEntry(Pointer, k, v), $"setting session config entry {key}={value}");
    }

    /// <summary>
    /// Puts the CUDA execution provider ahead of the CPU one. Needs a CUDA build of ONNX Runtime:
    /// point <c>ASPO_NATIVE_DIR</c> at a folder holding <c>libonnxruntime.so.1</c>, <c>libonnxruntime_providers_shared.so</c>
    /// and <c>libonnxruntime_providers_cuda.so</c>, with CUDA and cuDNN on the loader path. Without them ONNX Runtime's
    /// error (a provider library it failed to load) comes back as an <see cref="OrtException"/>.
    /// </summary>
    /// <param name="deviceId">the GPU ordinal</param>
    /// <param name="extraOptions">further CUDA provider options by their ONNX Runtime names (e.g. <c>gpu_mem_limit</c>)</param>
    public void AppendCudaExecutionProvider(int deviceId = 0, IReadOnlyDictionary<string, string>? extraOptions = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(deviceId);
        var entries = new List<KeyValuePair<string, string>> { new("device_id", deviceId.ToString(System.Globalization.CultureInfo.InvariantCulture)) };
        if (extraOptions is not null)
            entries.AddRange(extraOptions);

        nint cuda;
        OrtApi.Check(OrtApi.CreateCudaProviderOptions(&cuda), "creating CUDA provider options");
        using var cudaHandle = new OrtHandle(cuda, OrtApi.ReleaseCudaProviderOptionsSlot);
        // native UTF-8 copies of the keys and values, freed once ONNX Runtime has read them
        var keys = new nint[entries.Count];
        var values = new nint[entries.Count];
        try
        {
            for (var i = 0; i < entries.Count; i++)
            {
                keys[i] = (nint)Utf8.AllocNative(entries[i].Key);
                values[i] = (nint)Utf8.AllocNative(entries[i].Value);
            }
            fixed (nint* k = keys)
            fixed (nint* v = values)
                OrtApi.Check(OrtApi.UpdateCudaProviderOptions(cuda, (byte**)k, (byte**)v, (nuint)entries.Count),
                    "configuring the CUDA execution provider (needs a CUDA build of ONNX Runtime; see the README's GPU section)");
            OrtApi.Check(OrtApi.AppendExecutionProviderCudaV2(Pointer, cuda), "appending the CUDA execution provider");
        }
        finally
        {
            foreach (var p in keys.Concat(values))
                System.Runtime.InteropServices.NativeMemory.Free((void*)p);
        }
    }

    public void Dispose() => _handle.Dispose();
}
