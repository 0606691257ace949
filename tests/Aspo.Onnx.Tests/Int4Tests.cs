using Aspo.Model;

namespace Aspo.Onnx.Tests;

public sealed class Int4Tests
{
    [Fact]
    public void Quantize_then_dequantize_is_within_half_a_step_and_packs_low_nibble_first()
    {
        var rng = new Random(4);
        const int n = 5, k = 70; // k not a multiple of the block size
        var w = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var (packed, scales) = BlockQuantizer.Quantize(w, n, k);
        Assert.Equal(n * 3 * 16, packed.Length);
        var back = BlockQuantizer.Dequantize(packed, scales, n, k);
        for (var i = 0; i < w.Length; i++)
        {
            var scale = scales[(i / k) * 3 + (i % k) / 32];
            Assert.True(Math.Abs(w[i] - back[i]) <= scale / 2 + 1e-6, $"element {i}: {w[i]} → {back[i]} (scale {scale})");
        }
        // the largest |w| of each block maps to ±7 exactly
        var (p1, s1) = BlockQuantizer.Quantize([0.7f, -0.1f, .. new float[30]], 1, 32);
        Assert.Equal(0.1f, s1[0], 6);
        Assert.Equal((byte)(15 | (7 << 4)), p1[0]); // q0 = 7 + 8 = 15 (low nibble), q1 = −1 + 8 = 7 (high nibble)
    }

    [Fact]
    public void Eight_bit_blocks_are_one_byte_per_weight_around_128_and_within_half_a_step()
    {
        var rng = new Random(8);
        const int n = 3, k = 50;
        var w = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var (packed, scales) = BlockQuantizer.Quantize(w, n, k, bits: 8);
        Assert.Equal(n * 2 * 32, packed.Length);
        var back = BlockQuantizer.Dequantize(packed, scales, n, k, bits: 8);
        for (var i = 0; i < w.Length; i++)
        {
            var scale = scales[(i / k) * 2 + (i % k) / 32];
            Assert.True(Math.Abs(w[i] - back[i]) <= scale / 2 + 1e-6, $"element {i}: {w[i]} → {back[i]} (scale {scale})");
        }
        var (p1, s1) = BlockQuantizer.Quantize([1.27f, -0.5f, -1.27f, .. new float[29]], 1, 32, bits: 8);
        Assert.Equal(0.01f, s1[0], 6);
        Assert.Equal([255, 78, 1, 128], p1[..4]); // 127 + 128, −50 + 128, −127 + 128, 0 + 128
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockQuantizer.Quantize(new float[32], 1, 32, bits: 3));
    }

    /// <summary>
    /// With accuracy_level 1 (fp32 compute) the int4 graph equals the learner run on the dequantized weights: the
    /// projections at 4 bits, the lm_head at <paramref name="headBits"/> (0 = fp32; a tied head stays fp32 here because
    /// the learner cannot hold a quantized head next to an fp32 embedding).
    /// </summary>
    [Theory]
    [InlineData("qwen2", 0)]
    [InlineData("llama", 8)]
    [InlineData("qwen3", 4)]
    public void Int4_export_matches_the_learner_on_dequantized_weights(string family, int headBits)
    {
        var (config, p) = TestModels.Random(family, seed: 9);
        var folder = Path.Combine(Path.GetTempPath(), $"aspo-int4-{Guid.NewGuid():N}");
        try
        {
            DecoderExporter.Export(config, p, folder, null, new ExportOptions { Int4 = true, LmHeadBits = headBits, Int4AccuracyLevel = 1 });
            var layout = new ParameterLayout(config);
            var dequantized = (float[])p.Clone();
            foreach (var t in layout.Tensors)
            {
                var bits = t.Name.Contains("_proj.weight", StringComparison.Ordinal) ? 4 : t.Name == "lm_head.weight" ? headBits : 0;
                if (bits == 0)
                    continue;
                int rows = (int)t.Shape[0], cols = (int)t.Shape[1];
                var (packed, scales) = BlockQuantizer.Quantize(p.AsSpan((int)t.Offset, rows * cols), rows, cols, bits);
                BlockQuantizer.Dequantize(packed, scales, rows, cols, bits).CopyTo(dequantized, t.Offset);
            }
            Assert.Equal(headBits != 0, layout.Tensors.Any(t => t.Name == "lm_head.weight"));
            using var model = OnnxDecoder.Open(folder, threads: 1);
            int[] tokens = [5, 9, 13, 44, 2, 80, 3];
            var (lp, _) = model.Score(tokens, 1, 1f);
            var learner = TestModels.Learner(config, dequantized);
            var reference = new float[tokens.Length - 1];
            learner.Forward(tokens, [0, tokens.Length], [1], 1f, reference, [], forTraining: false);
            var max = lp.Zip(reference, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(max <= 1e-4, $"max |Δ log-prob| = {max:G3}");
            Assert.True(new FileInfo(Path.Combine(folder, "model.onnx.data")).Length < 0.5 * 4 * layout.TotalCount, "int4 weights should be much smaller");
        }
        finally
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }
}
