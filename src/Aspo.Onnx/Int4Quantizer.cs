namespace Aspo.Onnx;

/// <summary>
/// Symmetric 4-bit block quantization in ONNX Runtime's MatMulNBits layout (onnxruntime.md §3.3): for weight W [N, K]
/// (the Hugging Face Linear layout), blocks of 32 along K; per block scale = max|w| / 7 and q = clip(round(w/scale), −8, 7) + 8,
/// stored two per byte (element 2j in the low nibble); no zero points (ORT then uses 8). K is padded with zeros to a
/// whole number of blocks.
/// </summary>
public static class Int4Quantizer
{
    public const int BlockSize = 32;

    /// <summary>Packed bytes [N, k_blocks, 16] and scales [N, k_blocks] of <paramref name="weight"/> [N, K] (row-major).</summary>
    public static (byte[] Packed, float[] Scales) Quantize(ReadOnlySpan<float> weight, int n, int k)
    {
        if (weight.Length != n * k)
            throw new ArgumentException($"weight has {weight.Length} values, expected {n}×{k}");
        var blocks = (k + BlockSize - 1) / BlockSize;
        var packed = new byte[n * blocks * (BlockSize / 2)];
        var scales = new float[n * blocks];
        Span<byte> q = stackalloc byte[BlockSize];
        for (var row = 0; row < n; row++)
            for (var b = 0; b < blocks; b++)
            {
                var start = b * BlockSize;
                var length = Math.Min(BlockSize, k - start);
                var values = weight.Slice(row * k + start, length);
                var max = 0f;
                foreach (var w in values)
                    max = Math.Max(max, Math.Abs(w));
                var scale = max / 7f;
                scales[row * blocks + b] = scale;
                for (var i = 0; i < BlockSize; i++)
                {
                    var w = i < length ? values[i] : 0f;
                    var level = scale == 0 ? 0 : (int)MathF.Round(w / scale, MidpointRounding.ToEven);
                    q[i] = (byte)(Math.Clamp(level, -8, 7) + 8);
                }
                var dst = packed.AsSpan((row * blocks + b) * (BlockSize / 2), BlockSize / 2);
                for (var j = 0; j < BlockSize / 2; j++)
                    dst[j] = (byte)(q[2 * j] | (q[2 * j + 1] << 4));
            }
        return (packed, scales);
    }

    /// <summary>The weights the quantized form stands for: (q − 8)·scale, [N, K].</summary>
    public static float[] Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, int n, int k)
    {
        var blocks = (k + BlockSize - 1) / BlockSize;
        var w = new float[n * k];
        for (var row = 0; row < n; row++)
            for (var i = 0; i < k; i++)
            {
                var b = i / BlockSize;
                var inBlock = i % BlockSize;
                var value = packed[(row * blocks + b) * (BlockSize / 2) + inBlock / 2];
                var level = (inBlock % 2 == 0 ? value & 0xF : value >> 4) - 8;
                w[row * k + i] = level * scales[row * blocks + b];
            }
        return w;
    }
}
