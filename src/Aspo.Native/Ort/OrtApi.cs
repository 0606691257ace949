using System.Runtime.InteropServices;

namespace Aspo.Native.Ort;

/// <summary>
/// The ONNX Runtime C API function table (<c>OrtGetApiBase()->GetApi(30)</c>): an array of function
/// pointers whose slot indices never change across versions. Each method below calls one slot; the
/// numbers are the zero-based positions in <c>struct OrtApi</c> of onnxruntime_c_api.h (ORT 1.30).
/// Every status-returning call goes through <see cref="Check"/>, the single place a status becomes an exception.
/// </summary>
internal static unsafe class OrtApi
{
    public const uint ApiVersion = 30;

    private static void** s_table;
    private static string? s_version;
    private static readonly Lock s_initLock = new();

    /// <summary>The version string of the loaded library (<c>OrtApiBase.GetVersionString</c>).</summary>
    public static string VersionString { get { EnsureLoaded(); return s_version!; } }

    private static void** T => s_table != null ? s_table : EnsureLoaded();

    private static void** EnsureLoaded()
    {
        lock (s_initLock)
        {
            if (s_table != null)
                return s_table;
            var lib = NativeLibraryLocator.Default.Load(NativeLibraries.OnnxRuntime);
            var getApiBase = (delegate* unmanaged[Cdecl]<void**>)NativeLibrary.GetExport(lib, "OrtGetApiBase");
            // OrtApiBase: { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); }
            var apiBase = getApiBase();
            var version = Utf8.Read(((delegate* unmanaged[Cdecl]<byte*>)apiBase[1])());
            var table = ((delegate* unmanaged[Cdecl]<uint, void**>)apiBase[0])(ApiVersion);
            if (table == null)
                throw new AspoNativeException(
                    $"the ONNX Runtime library at {NativeLibraryLocator.Default.Describe(NativeLibraries.OnnxRuntime)} is version {version} " +
                    $"and does not provide C API version {ApiVersion}; this project needs ONNX Runtime 1.30 or newer (run tools/setup)");
            s_version = version;
            s_table = table;
            return table;
        }
    }

    /// <summary>Throws <see cref="OrtException"/> when <paramref name="status"/> is not NULL (and releases it).</summary>
    public static void Check(nint status, string? context = null)
    {
        if (status != 0)
            throw ToException(status, context);
    }

    private static OrtException ToException(nint status, string? context)
    {
        var code = (OrtErrorCode)((delegate* unmanaged[Cdecl]<nint, int>)T[1])(status);
        var message = Utf8.Read(((delegate* unmanaged[Cdecl]<nint, byte*>)T[2])(status));
        ReleaseStatus(status);
        return new OrtException(code, message, context);
    }

    // ---- environment ------------------------------------------------------------------------------------------
    public static nint CreateEnv(OrtLoggingLevel level, byte* logId, nint* env) => ((delegate* unmanaged[Cdecl]<int, byte*, nint*, nint>)T[3])((int)level, logId, env);
    public static nint GetAvailableProviders(byte*** providers, int* count) => ((delegate* unmanaged[Cdecl]<byte***, int*, nint>)T[125])(providers, count);
    public static nint ReleaseAvailableProviders(byte** providers, int count) => ((delegate* unmanaged[Cdecl]<byte**, int, nint>)T[126])(providers, count);
    public static byte* GetBuildInfoString() => ((delegate* unmanaged[Cdecl]<byte*>)T[254])();

    // ---- session options --------------------------------------------------------------------------------------
    public static nint CreateSessionOptions(nint* options) => ((delegate* unmanaged[Cdecl]<nint*, nint>)T[10])(options);
    public static nint SetSessionExecutionMode(nint options, OrtExecutionMode mode) => ((delegate* unmanaged[Cdecl]<nint, int, nint>)T[13])(options, (int)mode);
    public static nint SetSessionGraphOptimizationLevel(nint options, OrtGraphOptimizationLevel level) => ((delegate* unmanaged[Cdecl]<nint, int, nint>)T[23])(options, (int)level);
    public static nint SetIntraOpNumThreads(nint options, int threads) => ((delegate* unmanaged[Cdecl]<nint, int, nint>)T[24])(options, threads);
    public static nint SetInterOpNumThreads(nint options, int threads) => ((delegate* unmanaged[Cdecl]<nint, int, nint>)T[25])(options, threads);
    public static nint AddSessionConfigEntry(nint options, byte* key, byte* value) => ((delegate* unmanaged[Cdecl]<nint, byte*, byte*, nint>)T[130])(options, key, value);
    public static nint AppendExecutionProviderCudaV2(nint options, nint cudaOptions) => ((delegate* unmanaged[Cdecl]<nint, nint, nint>)T[204])(options, cudaOptions);
    public static nint CreateCudaProviderOptions(nint* cudaOptions) => ((delegate* unmanaged[Cdecl]<nint*, nint>)T[205])(cudaOptions);
    public static nint UpdateCudaProviderOptions(nint cudaOptions, byte** keys, byte** values, nuint count) => ((delegate* unmanaged[Cdecl]<nint, byte**, byte**, nuint, nint>)T[206])(cudaOptions, keys, values, count);

    // ---- sessions ---------------------------------------------------------------------------------------------
    public static nint CreateSession(nint env, byte* modelPath, nint options, nint* session) => ((delegate* unmanaged[Cdecl]<nint, byte*, nint, nint*, nint>)T[7])(env, modelPath, options, session);
    public static nint CreateSessionFromArray(nint env, void* model, nuint length, nint options, nint* session) => ((delegate* unmanaged[Cdecl]<nint, void*, nuint, nint, nint*, nint>)T[8])(env, model, length, options, session);
    public static nint Run(nint session, nint runOptions, byte** inputNames, nint* inputs, nuint inputCount, byte** outputNames, nuint outputCount, nint* outputs) =>
        ((delegate* unmanaged[Cdecl]<nint, nint, byte**, nint*, nuint, byte**, nuint, nint*, nint>)T[9])(session, runOptions, inputNames, inputs, inputCount, outputNames, outputCount, outputs);
    public static nint SessionGetInputCount(nint session, nuint* count) => ((delegate* unmanaged[Cdecl]<nint, nuint*, nint>)T[30])(session, count);
    public static nint SessionGetOutputCount(nint session, nuint* count) => ((delegate* unmanaged[Cdecl]<nint, nuint*, nint>)T[31])(session, count);
    public static nint SessionGetInputTypeInfo(nint session, nuint index, nint* typeInfo) => ((delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)T[33])(session, index, typeInfo);
    public static nint SessionGetOutputTypeInfo(nint session, nuint index, nint* typeInfo) => ((delegate* unmanaged[Cdecl]<nint, nuint, nint*, nint>)T[34])(session, index, typeInfo);
    public static nint SessionGetInputName(nint session, nuint index, nint allocator, byte** name) => ((delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)T[36])(session, index, allocator, name);
    public static nint SessionGetOutputName(nint session, nuint index, nint allocator, byte** name) => ((delegate* unmanaged[Cdecl]<nint, nuint, nint, byte**, nint>)T[37])(session, index, allocator, name);
    public static nint CreateRunOptions(nint* runOptions) => ((delegate* unmanaged[Cdecl]<nint*, nint>)T[39])(runOptions);
    public static nint RunOptionsSetTerminate(nint runOptions) => ((delegate* unmanaged[Cdecl]<nint, nint>)T[46])(runOptions);

    // ---- values and type information --------------------------------------------------------------------------
    public static nint CreateTensorAsOrtValue(nint allocator, long* shape, nuint rank, OrtTensorElementType type, nint* value) =>
        ((delegate* unmanaged[Cdecl]<nint, long*, nuint, int, nint*, nint>)T[48])(allocator, shape, rank, (int)type, value);
    public static nint CreateTensorWithDataAsOrtValue(nint memoryInfo, void* data, nuint byteLength, long* shape, nuint rank, OrtTensorElementType type, nint* value) =>
        ((delegate* unmanaged[Cdecl]<nint, void*, nuint, long*, nuint, int, nint*, nint>)T[49])(memoryInfo, data, byteLength, shape, rank, (int)type, value);
    public static nint GetTensorMutableData(nint value, void** data) => ((delegate* unmanaged[Cdecl]<nint, void**, nint>)T[51])(value, data);
    public static nint CastTypeInfoToTensorInfo(nint typeInfo, nint* tensorInfo) => ((delegate* unmanaged[Cdecl]<nint, nint*, nint>)T[55])(typeInfo, tensorInfo);
    public static nint GetTensorElementType(nint tensorInfo, int* type) => ((delegate* unmanaged[Cdecl]<nint, int*, nint>)T[60])(tensorInfo, type);
    public static nint GetDimensionsCount(nint tensorInfo, nuint* count) => ((delegate* unmanaged[Cdecl]<nint, nuint*, nint>)T[61])(tensorInfo, count);
    public static nint GetDimensions(nint tensorInfo, long* dims, nuint count) => ((delegate* unmanaged[Cdecl]<nint, long*, nuint, nint>)T[62])(tensorInfo, dims, count);
    public static nint GetSymbolicDimensions(nint tensorInfo, byte** names, nuint count) => ((delegate* unmanaged[Cdecl]<nint, byte**, nuint, nint>)T[63])(tensorInfo, names, count);
    public static nint GetTensorTypeAndShape(nint value, nint* tensorInfo) => ((delegate* unmanaged[Cdecl]<nint, nint*, nint>)T[65])(value, tensorInfo);
    public static nint CreateCpuMemoryInfo(int allocatorType, int memType, nint* memoryInfo) => ((delegate* unmanaged[Cdecl]<int, int, nint*, nint>)T[69])(allocatorType, memType, memoryInfo);
    public static nint AllocatorFree(nint allocator, void* p) => ((delegate* unmanaged[Cdecl]<nint, void*, nint>)T[76])(allocator, p);
    public static nint GetAllocatorWithDefaultOptions(nint* allocator) => ((delegate* unmanaged[Cdecl]<nint*, nint>)T[78])(allocator);

    // ---- releases (void, NULL-safe) ---------------------------------------------------------------------------
    public const int ReleaseEnvSlot = 92;
    public const int ReleaseMemoryInfoSlot = 94;
    public const int ReleaseSessionSlot = 95;
    public const int ReleaseValueSlot = 96;
    public const int ReleaseRunOptionsSlot = 97;
    public const int ReleaseTypeInfoSlot = 98;
    public const int ReleaseTensorTypeAndShapeInfoSlot = 99;
    public const int ReleaseSessionOptionsSlot = 100;
    public const int ReleaseCudaProviderOptionsSlot = 208;

    public static void ReleaseStatus(nint status) => ((delegate* unmanaged[Cdecl]<nint, void>)T[93])(status);

    /// <summary>Calls the <c>Release*</c> function at <paramref name="slot"/> on <paramref name="handle"/>.</summary>
    public static void Release(int slot, nint handle)
    {
        if (handle != 0)
            ((delegate* unmanaged[Cdecl]<nint, void>)T[slot])(handle);
    }

    /// <summary>The CPU memory description used for tensors over caller memory (arena allocator, default memory);
    /// created once and kept for the life of the process.</summary>
    public static nint CpuMemoryInfo
    {
        get
        {
            if (s_cpuMemoryInfo == 0)
            {
                nint info;
                Check(CreateCpuMemoryInfo(1 /* OrtArenaAllocator */, 0 /* OrtMemTypeDefault */, &info), "creating the CPU memory info");
                if (Interlocked.CompareExchange(ref s_cpuMemoryInfo, info, 0) != 0)
                    Release(ReleaseMemoryInfoSlot, info);
            }
            return s_cpuMemoryInfo;
        }
    }
    private static nint s_cpuMemoryInfo;

    /// <summary>ORT's default CPU allocator; owned by ORT, never released.</summary>
    public static nint DefaultAllocator
    {
        get
        {
            nint allocator;
            Check(GetAllocatorWithDefaultOptions(&allocator), "getting the default allocator");
            return allocator;
        }
    }
}
