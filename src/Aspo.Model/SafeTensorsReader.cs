using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aspo.Model;

/// <summary>
/// Reads a safetensors file (8-byte little-endian header length, JSON header, data buffer) with the checks of the
/// reference implementation: header size, JSON shape, known dtypes, sizes matching dtype × shape, tensors tiling
/// the buffer exactly, and the file length. F32, BF16 and F16 tensors are read as fp32.
/// </summary>
public sealed class SafeTensorsReader : IDisposable
{
    private const long MaxHeaderBytes = 100_000_000;
    private static readonly Dictionary<string, int> ElementSizes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2, ["I32"] = 4, ["U32"] = 4,
        ["F32"] = 4, ["F64"] = 8, ["I64"] = 8, ["U64"] = 8, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1,
    };

    private readonly FileStream _file;
    private readonly long _dataStart;
    private readonly Dictionary<string, SafeTensorInfo> _tensors;

    public SafeTensorsReader(string path)
    {
        Path = path;
        try
        {
            _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (FileNotFoundException)
        {
            throw new ModelFormatException($"{path}: safetensors file not found");
        }
        try
        {
            (_tensors, Metadata, _dataStart) = ReadHeader(_file, path);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyCollection<SafeTensorInfo> Tensors => _tensors.Values;
    public bool Contains(string name) => _tensors.ContainsKey(name);

    public SafeTensorInfo Info(string name) =>
        _tensors.TryGetValue(name, out var info) ? info : throw new ModelFormatException($"{Path}: tensor \"{name}\" is missing");

    /// <summary>Reads tensor <paramref name="name"/> into <paramref name="destination"/> as fp32, checking its shape.</summary>
    public void ReadFloat32(string name, ReadOnlySpan<long> expectedShape, Span<float> destination)
    {
        var info = Info(name);
        if (!info.Shape.AsSpan().SequenceEqual(expectedShape))
            throw new ModelFormatException($"{Path}: tensor \"{name}\" has shape [{string.Join(", ", info.Shape)}], expected [{string.Join(", ", expectedShape.ToArray())}]");
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"destination holds {destination.Length} elements, tensor {name} has {info.ElementCount}");
        var bytes = new byte[info.End - info.Begin];
        _file.Position = _dataStart + info.Begin;
        _file.ReadExactly(bytes);
        switch (info.DType)
        {
            case "F32":
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination);
                break;
            case "BF16":
                var bf = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (var i = 0; i < bf.Length; i++)
                    destination[i] = BitConverter.UInt32BitsToSingle((uint)bf[i] << 16);
                break;
            case "F16":
                var half = MemoryMarshal.Cast<byte, Half>(bytes);
                for (var i = 0; i < half.Length; i++)
                    destination[i] = (float)half[i];
                break;
            default:
                throw new ModelFormatException($"{Path}: tensor \"{name}\" has dtype {info.DType}; only F32, BF16 and F16 weights can be loaded");
        }
    }

    private static (Dictionary<string, SafeTensorInfo>, IReadOnlyDictionary<string, string>, long) ReadHeader(FileStream file, string path)
    {
        Span<byte> lengthBytes = stackalloc byte[8];
        if (file.Length < 8 || file.Read(lengthBytes) != 8)
            throw new ModelFormatException($"{path}: too short to be a safetensors file ({file.Length} bytes)");
        var headerLength = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        if (headerLength <= 0 || headerLength > MaxHeaderBytes)
            throw new ModelFormatException($"{path}: header length {headerLength} is out of range (1 to {MaxHeaderBytes} bytes)");
        if (8 + headerLength > file.Length)
            throw new ModelFormatException($"{path}: header of {headerLength} bytes overruns the file ({file.Length} bytes): truncated or not a safetensors file");
        var header = new byte[headerLength];
        file.ReadExactly(header);
        JsonObject json;
        try
        {
            json = JsonNode.Parse(header) as JsonObject ?? throw new ModelFormatException($"{path}: header is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: header is not valid JSON ({e.Message})");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        foreach (var (name, node) in json)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node as JsonObject ?? throw new ModelFormatException($"{path}: __metadata__ must be an object of strings"))
                    metadata[k] = v is JsonValue sv && sv.TryGetValue<string>(out var s) ? s : throw new ModelFormatException($"{path}: __metadata__.{k} must be a string");
                continue;
            }
            if (node is not JsonObject entry || entry["dtype"] is not JsonValue dtypeNode || !dtypeNode.TryGetValue<string>(out var dtype)
                || entry["shape"] is not JsonArray shapeNode || entry["data_offsets"] is not JsonArray offsets || offsets.Count != 2)
                throw new ModelFormatException($"{path}: tensor \"{name}\" needs dtype, shape and data_offsets [begin, end]");
            if (!ElementSizes.TryGetValue(dtype, out var elementSize))
                throw new ModelFormatException($"{path}: tensor \"{name}\" has unknown dtype \"{dtype}\"");
            var shape = shapeNode.Select(d => d!.GetValue<long>()).ToArray();
            long begin = offsets[0]!.GetValue<long>(), end = offsets[1]!.GetValue<long>();
            var info = new SafeTensorInfo(name, dtype, shape, begin, end);
            if (shape.Any(d => d < 0) || end < begin || end - begin != info.ElementCount * elementSize)
                throw new ModelFormatException($"{path}: tensor \"{name}\" spans {end - begin} bytes, but {dtype}[{string.Join(", ", shape)}] needs {info.ElementCount * elementSize}");
            tensors[name] = info;
        }

        long expectedBegin = 0;
        foreach (var info in tensors.Values.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (info.Begin != expectedBegin)
                throw new ModelFormatException($"{path}: tensor \"{info.Name}\" starts at byte {info.Begin} of the data buffer, expected {expectedBegin} (tensors must tile the buffer without holes or overlaps)");
            expectedBegin = info.End;
        }
        var dataStart = 8 + headerLength;
        if (dataStart + expectedBegin != file.Length)
            throw new ModelFormatException(dataStart + expectedBegin > file.Length
                ? $"{path}: truncated: the header describes {dataStart + expectedBegin} bytes but the file has {file.Length}"
                : $"{path}: {file.Length - dataStart - expectedBegin} unexpected bytes after the last tensor");
        return (tensors, metadata, dataStart);
    }

    public void Dispose() => _file.Dispose();
}
