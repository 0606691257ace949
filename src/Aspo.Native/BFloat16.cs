using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Aspo.Native;

/// <summary>Brain float16: the upper 16 bits of an IEEE float32 (8-bit exponent, 7-bit mantissa).
/// Conversion from float rounds to nearest, ties to even, as oneDNN and PyTorch do.</summary>
[StructLayout(LayoutKind.Sequential, Size = 2)]
public readonly struct BFloat16 : IEquatable<BFloat16>
{
    public BFloat16(ushort bits) => Bits = bits;

    /// <summary>The raw 16 bits.</summary>
    public ushort Bits { get; }

    public static explicit operator BFloat16(float value)
    {
        var u = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return new BFloat16((ushort)((u >> 16) | 0x0040)); // keep it a (quiet) NaN
        u += 0x7FFFu + ((u >> 16) & 1u);
        return new BFloat16((ushort)(u >> 16));
    }

    public static explicit operator float(BFloat16 value) => BitConverter.UInt32BitsToSingle((uint)value.Bits << 16);

    /// <summary>dst[i] = (BFloat16)src[i] (round to nearest, ties to even; NaN stays NaN), 32 values per AVX-512 step.</summary>
    public static void Convert(ReadOnlySpan<float> source, Span<BFloat16> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"destination has {destination.Length} elements, source has {source.Length}", nameof(destination));
        var bits = MemoryMarshal.Cast<float, uint>(source);
        var output = MemoryMarshal.Cast<BFloat16, ushort>(destination);
        var i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 32 <= bits.Length; i += 32)
            {
                var low = Round(Vector512.Create(bits.Slice(i, 16)));
                var high = Round(Vector512.Create(bits.Slice(i + 16, 16)));
                Vector512.Narrow(low, high).CopyTo(output.Slice(i, 32));
            }
        }
        for (; i < source.Length; i++)
            destination[i] = (BFloat16)source[i];

        static Vector512<uint> Round(Vector512<uint> u)
        {
            var rounded = (u + Vector512.Create(0x7FFFu) + ((u >> 16) & Vector512<uint>.One)) >> 16;
            var nan = Vector512.GreaterThan(u & Vector512.Create(0x7FFFFFFFu), Vector512.Create(0x7F800000u));
            return Vector512.ConditionalSelect(nan, (u >> 16) | Vector512.Create(0x40u), rounded);
        }
    }

    /// <summary>dst[i] = (float)src[i].</summary>
    public static void Convert(ReadOnlySpan<BFloat16> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
            throw new ArgumentException($"destination has {destination.Length} elements, source has {source.Length}", nameof(destination));
        for (var i = 0; i < source.Length; i++)
            destination[i] = (float)source[i];
    }

    public bool Equals(BFloat16 other) => Bits == other.Bits;
    public override bool Equals(object? obj) => obj is BFloat16 b && Equals(b);
    public override int GetHashCode() => Bits;
    public static bool operator ==(BFloat16 a, BFloat16 b) => a.Bits == b.Bits;
    public static bool operator !=(BFloat16 a, BFloat16 b) => a.Bits != b.Bits;
    public override string ToString() => ((float)this).ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
