using Aspo.Native.Files;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;

namespace Aspo.Model;

/// <summary>
/// Writes fp32 tensors as a safetensors file that Hugging Face tools accept: <c>__metadata__.format = "pt"</c>,
/// tensors in name order, header padded with spaces to a multiple of 8 so every tensor is 8-byte aligned.
/// The file is written under a temporary name and renamed, so a reader never sees half of it.
/// </summary>
public static class SafeTensorsWriter
{
    public static void WriteFloat32(string path, IReadOnlyList<(string Name, long[] Shape, ReadOnlyMemory<float> Data)> tensors)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
        long offset = 0;
        var ordered = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();
        foreach (var (name, shape, data) in ordered)
        {
            var count = shape.Aggregate(1L, (a, d) => a * d);
            if (count != data.Length)
                throw new ArgumentException($"tensor {name}: shape [{string.Join(", ", shape)}] has {count} elements, data has {data.Length}");
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + 4 * count),
            };
            offset += 4 * count;
        }
        var headerText = header.ToJsonString();
        var headerBytes = Encoding.UTF8.GetBytes(headerText + new string(' ', (8 - Encoding.UTF8.GetByteCount(headerText) % 8) % 8));

        AtomicFile.Write(path, temp =>
        {
            using var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            var length = new byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(length, headerBytes.Length);
            file.Write(length);
            file.Write(headerBytes);
            foreach (var (_, _, data) in ordered)
                file.Write(MemoryMarshal.AsBytes(data.Span));
        });
    }
}
