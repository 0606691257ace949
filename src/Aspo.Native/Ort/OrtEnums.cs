namespace Aspo.Native.Ort;

/// <summary><c>OrtLoggingLevel</c>.</summary>
public enum OrtLoggingLevel { Verbose = 0, Info = 1, Warning = 2, Error = 3, Fatal = 4 }

/// <summary><c>GraphOptimizationLevel</c>.</summary>
public enum OrtGraphOptimizationLevel { DisableAll = 0, Basic = 1, Extended = 2, Layout = 3, All = 99 }

/// <summary><c>ExecutionMode</c>.</summary>
public enum OrtExecutionMode { Sequential = 0, Parallel = 1 }

/// <summary><c>ONNXTensorElementDataType</c>; values 0–23 equal ONNX <c>TensorProto.DataType</c>.</summary>
public enum OrtTensorElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
}

public static class OrtTensorElementTypes
{
    /// <summary>The element type ONNX Runtime uses for the managed type <typeparamref name="T"/>.</summary>
    /// <exception cref="NotSupportedException">no tensor element type corresponds to <typeparamref name="T"/></exception>
    public static OrtTensorElementType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return OrtTensorElementType.Float;
        if (typeof(T) == typeof(byte)) return OrtTensorElementType.UInt8;
        if (typeof(T) == typeof(sbyte)) return OrtTensorElementType.Int8;
        if (typeof(T) == typeof(ushort)) return OrtTensorElementType.UInt16;
        if (typeof(T) == typeof(short)) return OrtTensorElementType.Int16;
        if (typeof(T) == typeof(int)) return OrtTensorElementType.Int32;
        if (typeof(T) == typeof(long)) return OrtTensorElementType.Int64;
        if (typeof(T) == typeof(bool)) return OrtTensorElementType.Bool;
        if (typeof(T) == typeof(Half)) return OrtTensorElementType.Float16;
        if (typeof(T) == typeof(double)) return OrtTensorElementType.Double;
        if (typeof(T) == typeof(uint)) return OrtTensorElementType.UInt32;
        if (typeof(T) == typeof(ulong)) return OrtTensorElementType.UInt64;
        if (typeof(T) == typeof(BFloat16)) return OrtTensorElementType.BFloat16;
        throw new NotSupportedException($"no ONNX tensor element type for {typeof(T).Name}");
    }
}
