using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;

namespace Aspo.Pipeline.Tests;

/// <summary>Event files as TensorBoard reads them: TFRecord framing with masked CRC-32C, Event/Summary protobufs
/// decoded by Google.Protobuf's own wire-format reader.</summary>
public sealed class TensorBoardWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-tb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Crc32C_matches_the_standard_check_value()
    {
        // the catalogued check value of CRC-32C (iSCSI, RFC 3720): crc("123456789") = 0xE3069283
        Assert.Equal(0xE3069283u, TensorBoardWriter.Crc32C(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, TensorBoardWriter.Crc32C([]));
        // RFC 3720 B.4: 32 bytes of zeros → 0x8A9136AA
        Assert.Equal(0x8A9136AAu, TensorBoardWriter.Crc32C(new byte[32]));
    }

    internal sealed record Event(double WallTime, long Step, string? FileVersion, List<(string Tag, float Value)> Values);

    /// <summary>Reads every record, checking both masked CRCs, and parses each Event with CodedInputStream.</summary>
    internal static List<Event> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<Event>();
        var at = 0;
        while (at < bytes.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at, 8));
            Assert.Equal(TensorBoardWriter.MaskedCrc32C(bytes.AsSpan(at, 8)), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 8, 4)));
            var data = bytes.AsSpan(at + 12, length).ToArray();
            Assert.Equal(TensorBoardWriter.MaskedCrc32C(data), BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 12 + length, 4)));
            at += 12 + length + 4;
            var input = new CodedInputStream(data);
            double wall = 0;
            long step = 0;
            string? version = null;
            var values = new List<(string, float)>();
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1: wall = input.ReadDouble(); break;
                    case 2: step = input.ReadInt64(); break;
                    case 3: version = input.ReadString(); break;
                    case 5:
                        var summary = new CodedInputStream(input.ReadBytes().ToByteArray());
                        while (summary.ReadTag() is var st && st != 0)
                        {
                            Assert.Equal(1, WireFormat.GetTagFieldNumber(st));
                            var value = new CodedInputStream(summary.ReadBytes().ToByteArray());
                            string name = "";
                            float simple = float.NaN;
                            while (value.ReadTag() is var vt && vt != 0)
                            {
                                if (WireFormat.GetTagFieldNumber(vt) == 1)
                                    name = value.ReadString();
                                else if (WireFormat.GetTagFieldNumber(vt) == 2)
                                    simple = value.ReadFloat();
                                else
                                    value.SkipLastField();
                            }
                            values.Add((name, simple));
                        }
                        break;
                    default: input.SkipLastField(); break;
                }
            }
            events.Add(new Event(wall, step, version, values));
        }
        return events;
    }

    [Fact]
    public void Scalars_round_trip_through_the_tfrecord_and_protobuf_encoding()
    {
        string path;
        using (var writer = new TensorBoardWriter(_dir))
        {
            path = writer.Path;
            writer.WriteScalars(3, [("critic/score/mean", 0.25), ("actor/entropy", 1.5)]);
            writer.WriteScalars(300_000_000_000, [("step/actor/pg_loss", -0.125)]);
        }
        Assert.StartsWith("events.out.tfevents.", Path.GetFileName(path));
        var events = Read(path);
        Assert.Equal(3, events.Count);
        Assert.Equal("brain.Event:2", events[0].FileVersion);
        Assert.Equal(3, events[1].Step);
        Assert.Equal([("critic/score/mean", 0.25f), ("actor/entropy", 1.5f)], events[1].Values);
        Assert.Equal(300_000_000_000, events[2].Step); // a multi-byte varint
        Assert.Equal([("step/actor/pg_loss", -0.125f)], events[2].Values);
        Assert.InRange(events[1].WallTime, DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
    }
}
