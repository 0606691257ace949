using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Aspo.Pipeline;

/// <summary>
/// Writes TensorBoard event files (<c>events.out.tfevents.&lt;seconds&gt;.&lt;host&gt;.&lt;pid&gt;</c>) with scalar
/// summaries, without TensorFlow: TFRecord framing (uint64 length, masked CRC32C of the length, the bytes, masked
/// CRC32C of the bytes) around hand-encoded <c>Event</c> protobufs — wall_time (1, double), step (2, int64),
/// file_version (3, "brain.Event:2") or summary (5) holding <c>Summary.Value</c>s of tag (1) and simple_value (2, float).
/// Each process appends its own file; TensorBoard reads every file of the folder.
/// </summary>
public sealed class TensorBoardWriter : IDisposable
{
    private readonly FileStream _file;

    public TensorBoardWriter(string folder)
    {
        Directory.CreateDirectory(folder);
        var seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // a second writer of the same process within the same second gets a counter suffix
        for (var k = 0; ; k++)
        {
            Path = System.IO.Path.Combine(folder, $"events.out.tfevents.{seconds}.{Environment.MachineName}.{Environment.ProcessId}{(k == 0 ? "" : $".{k}")}");
            try
            {
                _file = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.Read);
                break;
            }
            catch (IOException) when (File.Exists(Path) && k < 1000)
            {
            }
        }
        WriteRecord(Event(WallTime(), 0, fileVersion: "brain.Event:2", scalars: []));
    }

    public string Path { get; private set; }

    /// <summary>One event at <paramref name="step"/> holding every scalar; flushed to disk, so a killed process loses at most this event.</summary>
    public void WriteScalars(long step, IEnumerable<(string Tag, double Value)> scalars)
    {
        WriteRecord(Event(WallTime(), step, fileVersion: null, [.. scalars]));
        _file.Flush(flushToDisk: true);
    }

    private static double WallTime() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

    private void WriteRecord(byte[] data)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], MaskedCrc32C(header[..8]));
        Span<byte> footer = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(footer, MaskedCrc32C(data));
        _file.Write(header);
        _file.Write(data);
        _file.Write(footer);
    }

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), through the CPU's crc32 instruction where present.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
            crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    /// <summary>TFRecord's masking: rotate right by 15 and add a constant (so CRCs of CRCs are not trivially zero).</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xA282EAD8u);
    }

    private static byte[] Event(double wallTime, long step, string? fileVersion, IReadOnlyList<(string Tag, double Value)> scalars)
    {
        var e = new List<byte>();
        Tag(e, 1, 1);
        Span<byte> d = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(d, wallTime);
        e.AddRange(d.ToArray());
        Tag(e, 2, 0);
        Varint(e, (ulong)step);
        if (fileVersion is not null)
            LengthDelimited(e, 3, Encoding.UTF8.GetBytes(fileVersion));
        if (scalars.Count > 0)
        {
            var summary = new List<byte>();
            var f = new byte[4];
            foreach (var (tag, value) in scalars)
            {
                var v = new List<byte>();
                LengthDelimited(v, 1, Encoding.UTF8.GetBytes(tag));
                Tag(v, 2, 5);
                BinaryPrimitives.WriteSingleLittleEndian(f, (float)value);
                v.AddRange(f);
                LengthDelimited(summary, 1, [.. v]);
            }
            LengthDelimited(e, 5, [.. summary]);
        }
        return [.. e];
    }

    private static void Tag(List<byte> buffer, int field, int wireType) => Varint(buffer, (ulong)((field << 3) | wireType));

    private static void Varint(List<byte> buffer, ulong value)
    {
        while (value >= 0x80)
        {
            buffer.Add((byte)(value | 0x80));
            value >>= 7;
        }
        buffer.Add((byte)value);
    }

    private static void LengthDelimited(List<byte> buffer, int field, byte[] bytes)
    {
        Tag(buffer, field, 2);
        Varint(buffer, (ulong)bytes.Length);
        buffer.AddRange(bytes);
    }

    public void Dispose() => _file.Dispose();
}
