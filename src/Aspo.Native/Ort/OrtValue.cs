using System.Buffers;

namespace Aspo.Native.Ort;

/// <summary>
/// An <c>OrtValue</c> holding a tensor. Either it wraps caller memory without copying (the memory stays
/// pinned until this value is disposed) or ONNX Runtime owns the buffer (outputs, <see cref="Allocate{T}"/>).
/// </summary>
public sealed unsafe class OrtValue : IDisposable
{
    private readonly OrtHandle _handle;
    private MemoryHandle _pin; // pins caller memory for as long as ONNX Runtime may read it

    private OrtValue(nint value, MemoryHandle pin)
    {
        _handle = new OrtHandle(value, OrtApi.ReleaseValueSlot);
        _pin = pin;
    }

    ~OrtValue() => _pin.Dispose();

    /// <summary>Takes ownership of a value ONNX Runtime created (e.g. a <c>Run</c> output).</summary>
    internal static OrtValue FromOwned(nint value) => new(value, default);

    internal nint Pointer => _handle.Pointer;

    /// <summary>A tensor of shape <paramref name="shape"/> over <paramref name="data"/>, row-major, no copy.</summary>
    /// <exception cref="ArgumentException">the shape's element count differs from <paramref name="data"/>'s length, or a dimension is negative</exception>
    public static OrtValue FromMemory<T>(Memory<T> data, ReadOnlySpan<long> shape) where T : unmanaged
    {
        var count = ElementCount(shape);
        if (count != data.Length)
            throw new ArgumentException(
                $"tensor shape [{string.Join(", ", shape.ToArray())}] has {count} elements but the buffer holds {data.Length}", nameof(shape));
        var pin = data.Pin();
        try
        {
            nint value;
            fixed (long* s = shape)
                OrtApi.Check(OrtApi.CreateTensorWithDataAsOrtValue(OrtApi.CpuMemoryInfo, pin.Pointer, (nuint)(count * sizeof(T)),
                    s, (nuint)shape.Length, OrtTensorElementTypes.Of<T>(), &value), "creating a tensor over caller memory");
            return new OrtValue(value, pin);
        }
        catch
        {
            pin.Dispose();
            throw;
        }
    }

    /// <summary>A tensor whose buffer ONNX Runtime allocates (uninitialised).</summary>
    public static OrtValue Allocate<T>(ReadOnlySpan<long> shape) where T : unmanaged
    {
        ElementCount(shape); // validates the dimensions
        nint value;
        fixed (long* s = shape)
            OrtApi.Check(OrtApi.CreateTensorAsOrtValue(OrtApi.DefaultAllocator, s, (nuint)shape.Length, OrtTensorElementTypes.Of<T>(), &value),
                "allocating a tensor");
        return new OrtValue(value, default);
    }

    /// <summary>Element type and shape of the tensor.</summary>
    public OrtTensorInfo GetTensorInfo()
    {
        nint info;
        OrtApi.Check(OrtApi.GetTensorTypeAndShape(Pointer, &info), "reading a tensor's type and shape");
        try
        {
            return OrtTensorInfo.Read(info, name: "");
        }
        finally
        {
            OrtApi.Release(OrtApi.ReleaseTensorTypeAndShapeInfoSlot, info);
        }
    }

    /// <summary>The tensor's elements in place (row-major). Valid until this value is disposed.</summary>
    /// <exception cref="InvalidOperationException">the tensor's element type is not <typeparamref name="T"/></exception>
    public Span<T> GetTensorSpan<T>() where T : unmanaged
    {
        var info = GetTensorInfo();
        var expected = OrtTensorElementTypes.Of<T>();
        if (info.ElementType != expected)
            throw new InvalidOperationException($"tensor holds {info.ElementType} elements, not {expected}");
        void* data;
        OrtApi.Check(OrtApi.GetTensorMutableData(Pointer, &data), "reading tensor data");
        return new Span<T>(data, checked((int)ElementCount(info.Shape)));
    }

    internal static long ElementCount(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0)
                throw new ArgumentException($"tensor shape [{string.Join(", ", shape.ToArray())}] has a negative dimension", nameof(shape));
            count = checked(count * d);
        }
        return count;
    }

    public void Dispose()
    {
        _handle.Dispose(); // release the native value before the memory it points into
        _pin.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Name, element type and shape of a tensor; symbolic or unknown dimensions are -1, with their names in <see cref="DimensionNames"/>.</summary>
public sealed record OrtTensorInfo(string Name, OrtTensorElementType ElementType, long[] Shape, string[] DimensionNames)
{
    public override string ToString()
    {
        var dims = Shape.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : DimensionNames[i].Length > 0 ? DimensionNames[i] : "?");
        return $"{Name}: {ElementType}[{string.Join(", ", dims)}]";
    }

    /// <summary>Reads an <c>OrtTensorTypeAndShapeInfo</c> (not released here).</summary>
    internal static unsafe OrtTensorInfo Read(nint tensorInfo, string name)
    {
        int type;
        nuint rank;
        OrtApi.Check(OrtApi.GetTensorElementType(tensorInfo, &type), "reading a tensor element type");
        OrtApi.Check(OrtApi.GetDimensionsCount(tensorInfo, &rank), "reading a tensor rank");
        var shape = new long[(int)rank];
        var names = new string[(int)rank];
        var symbolic = stackalloc byte*[(int)rank + 1];
        fixed (long* s = shape)
            OrtApi.Check(OrtApi.GetDimensions(tensorInfo, s, rank), "reading tensor dimensions");
        OrtApi.Check(OrtApi.GetSymbolicDimensions(tensorInfo, symbolic, rank), "reading symbolic dimensions");
        for (var i = 0; i < (int)rank; i++)
            names[i] = Utf8.Read(symbolic[i]);
        return new OrtTensorInfo(name, (OrtTensorElementType)type, shape, names);
    }
}
