namespace Aspo.Native.Ort;

/// <summary>An <c>OrtEnv</c>: the logging and threading context every session is created in.
/// One per process is enough; sessions hold no reference to it after creation.</summary>
public sealed unsafe class OrtEnvironment : IDisposable
{
    private readonly OrtHandle _handle;

    public OrtEnvironment(OrtLoggingLevel logLevel = OrtLoggingLevel.Warning, string logId = "aspo")
    {
        nint env;
        fixed (byte* id = Utf8.NullTerminated(logId))
            OrtApi.Check(OrtApi.CreateEnv(logLevel, id, &env), "creating the ONNX Runtime environment");
        _handle = new OrtHandle(env, OrtApi.ReleaseEnvSlot);
    }

    internal nint Pointer => _handle.Pointer;

    /// <summary>The C API version this binding asks for (<c>GetApi(30)</c>, ONNX Runtime 1.30).</summary>
    public const uint ApiVersion = OrtApi.ApiVersion;

    /// <summary>The loaded library's version, e.g. "1.30.0".</summary>
    public static string Version => OrtApi.VersionString;

    /// <summary>The loaded library's build description (git commit, build type).</summary>
    public static string BuildInfo => Utf8.Read(OrtApi.GetBuildInfoString());

    /// <summary>Execution providers compiled into the loaded library (a provider may still need extra libraries to start).</summary>
    public static IReadOnlyList<string> AvailableProviders()
    {
        byte** names;
        int count;
        OrtApi.Check(OrtApi.GetAvailableProviders(&names, &count), "listing execution providers");
        try
        {
            var result = new string[count];
            for (var i = 0; i < count; i++)
                result[i] = Utf8.Read(names[i]);
            return result;
        }
        finally
        {
            OrtApi.Check(OrtApi.ReleaseAvailableProviders(names, count));
        }
    }

    public void Dispose() => _handle.Dispose();
}
