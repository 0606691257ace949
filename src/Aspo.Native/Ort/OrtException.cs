namespace Aspo.Native.Ort;

/// <summary>ONNX Runtime's <c>OrtErrorCode</c> (onnxruntime_c_api.h).</summary>
public enum OrtErrorCode
{
    Ok = 0,
    Fail = 1,
    InvalidArgument = 2,
    NoSuchFile = 3,
    NoModel = 4,
    EngineError = 5,
    RuntimeException = 6,
    InvalidProtobuf = 7,
    ModelLoaded = 8,
    NotImplemented = 9,
    InvalidGraph = 10,
    EpFail = 11,
    ModelLoadCanceled = 12,
    ModelRequiresCompilation = 13,
    NotFound = 14,
    DeviceReset = 15,
}

/// <summary>A non-NULL <c>OrtStatus</c> turned into an exception: the error code and ONNX Runtime's own message,
/// prefixed by what this project was doing.</summary>
public sealed class OrtException : AspoNativeException
{
    public OrtException(OrtErrorCode code, string nativeMessage, string? context)
        : base($"{(context is null ? "ONNX Runtime" : context)}: {nativeMessage} (ONNX Runtime error {code})")
    {
        Code = code;
        NativeMessage = nativeMessage;
    }

    public OrtErrorCode Code { get; }

    /// <summary>The message exactly as ONNX Runtime wrote it.</summary>
    public string NativeMessage { get; }
}
