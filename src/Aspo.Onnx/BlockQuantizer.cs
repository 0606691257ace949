namespace Aspo.Onnx;

/// <summary>
/// Symmetric block quantization in ONNX Runtime's MatMulNBits layout (onnxruntime.md §3.3) for 4 or 8 bits: for weight
/// W [N, K] (the Hugging Face Linear layout), blocks of 32 along K (GenAI's builder default; 64 and 128 measured no
/// faster here); per block scale = max|w| / (2^(bits−1) − 1) and q = clip(round(w/scale), −2^(bits−1), 2^(bits−1) − 1)
/// + 2^(bits−1); no zero points (ORT then uses 2^(bits−1)). 4 bits are stored two per byte (element 2j in the low
/// nibble), 8 bits one per byte. K is padded with zeros to a whole number of blocks.
/// </summary>
public static class BlockQuantizer
{
    public const int BlockSize = 32;

    /// <summary>Bytes per block of <see cref="BlockSize"/> weights: 16 at 4 bits, 32 at 8 bits.</summary>
    public static int BlockBytes(int bits) => bits switch
    {
        4 => BlockSize / 2,
        8 => BlockSize,
        _ => throw new ArgumentOutOfRangeException(nameof(bits), bits, "MatMulNBits weights are quantized to 4 or 8 bits here"),
    };

    public static int Blocks(int k) => (k + BlockSize - 1) / BlockSize;

    /// <summary>Packed bytes [N, k_blocks, BlockBytes(bits)] and scales [N, k_blocks] of <paramref name="weight"/> [N, K] (row-major).</summary>
    public static (byte[] Packed, float[] Scales) Quantize(ReadOnlySpan<float> weight, int n, int k, int bits = 4)
    {
        if (weight.Length != n * k)
            throw new ArgumentException($"weight has {weight.Length} values, expected {n}×{k}");
        var blockBytes = BlockBytes(bits);
        int zero = 1 << (bits - 1), maxLevel = zero - 1;
        var blocks = Blocks(k);
        var packed = new byte[n * blocks * blockBytes];
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
                var scale = max / maxLevel;
                scales[row * blocks + b] = scale;
                for (var i = 0; i < BlockSize; i++)
                {
                    var w = i < length ? values[i] : 0f;
                    var level = scale == 0 ? 0 : (int)MathF.Round(w / scale, MidpointRounding.ToEven);
                    q[i] = (byte)(Math.Clamp(level, -zero, maxLevel) + zero);
                }
                var dst = packed.AsSpan((row * blocks + b) * blockBytes, blockBytes);
                if (bits == 8)
                    q.CopyTo(dst);
                else
                    for (var j = 0; j < blockBytes; j++)
                        dst[j] = (byte)(q[2 * j] | (q[2 * j + 1] << 4));
            }
        return (packed, scales);
    }

    /// <summary>The weights the quantized form stands for: (q − 2^(bits−1))·scale, [N, K].</summary>
    public static float[] Dequantize(ReadOnlySpan<byte> packed, ReadOnlySpan<float> scales, int n, int k, int bits = 4)
    {
        var blockBytes = BlockBytes(bits);
        var zero = 1 << (bits - 1);
        var blocks = Blocks(k);
        var w = new float[n * k];
        for (var row = 0; row < n; row++)
            for (var i = 0; i < k; i++)
            {
                var b = i / BlockSize;
                var inBlock = i % BlockSize;
                var block = (row * blocks + b) * blockBytes;
                var level = bits == 8 ? packed[block + inBlock] : inBlock % 2 == 0 ? packed[block + inBlock / 2] & 0xF : packed[block + inBlock / 2] >> 4;
                w[row * k + i] = (level - zero) * scales[row * blocks + b];
            }
        return w;
    }
}
