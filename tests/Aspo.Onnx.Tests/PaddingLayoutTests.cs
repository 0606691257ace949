namespace Aspo.Onnx.Tests;

/// <summary>
/// The layout the exported graph is exact for: prompts right-padded into one block (as ONNX Runtime GenAI 0.18 pads a
/// batch, and as our generator's rows are laid out) and decode steps that append one column, leaving the pads in the
/// middle. GroupQueryAttention takes each row's length from the mask (Σ mask − 1, GenAI's own builder does the same)
/// and RoPE positions from that length, so left padding is not supported: ONNX Runtime's GQA writes the key cache with
/// positions counted from the start of the row (tried with position_ids and attention_bias inputs: the prefill is exact,
/// the cache is not). Each real token's logits are compared with the learner's forward of that prompt alone.
/// </summary>
public sealed class PaddingLayoutTests
{
    private static readonly int[][] Prompts = [[5, 17, 3, 9, 22, 30, 31, 32], [40, 41], [1, 2, 3, 4, 5]];

    public static TheoryData<string> Families() => new("qwen2", "llama", "qwen3");

    [Theory]
    [MemberData(nameof(Families))]
    public void Right_padded_prefill_and_two_decode_steps_match_each_prompt_alone(string family)
    {
        var (config, p, folder) = TestModels.Exported(family);
        using var model = OnnxDecoder.Open(folder, threads: 1);
        var learner = TestModels.Learner(config, p);
        int b = Prompts.Length, width = Prompts.Max(x => x.Length), v = config.VocabSize;
        const int steps = 2;
        var maxLength = width + steps;
        var cache = b * config.NumKvHeads * maxLength * config.HeadDim;
        var keys = Enumerable.Range(0, config.NumLayers).Select(_ => new float[cache]).ToArray();
        var values = Enumerable.Range(0, config.NumLayers).Select(_ => new float[cache]).ToArray();

        // prefill [B, width]: pads (token 0, mask 0) after each prompt
        var ids = new long[b * width];
        var mask = new long[b * width];
        for (var r = 0; r < b; r++)
            for (var j = 0; j < Prompts[r].Length; j++)
            {
                ids[r * width + j] = Prompts[r][j];
                mask[r * width + j] = 1;
            }
        var logits = new float[b * width * v];
        model.Forward(ids, mask, b, width, width, logits, keys, values, maxLength);
        var sequences = Prompts.Select(x => x.ToList()).ToArray();
        var worst = 0.0;
        for (var r = 0; r < b; r++)
        {
            var reference = learner.Logits([.. sequences[r]]);
            for (var j = 0; j < Prompts[r].Length; j++)
                worst = Math.Max(worst, MaxDelta(reference.AsSpan(j * v, v), logits.AsSpan((r * width + j) * v, v)));
        }

        var prefillWorst = worst;
        // decode: one new token per row in the next column; the mask keeps the prompt's pads in the middle
        for (var step = 0; step < steps; step++)
        {
            var total = width + step + 1;
            var stepIds = new long[b];
            var stepMask = new long[b * total];
            for (var r = 0; r < b; r++)
            {
                var next = 50 + 7 * r + step;
                stepIds[r] = next;
                sequences[r].Add(next);
                for (var j = 0; j < total - 1; j++)
                    stepMask[r * total + j] = j < width ? mask[r * width + j] : 1;
                stepMask[r * total + total - 1] = 1;
            }
            var stepLogits = new float[b * v];
            model.Forward(stepIds, stepMask, b, 1, total, stepLogits, keys, values, maxLength);
            for (var r = 0; r < b; r++)
            {
                var reference = learner.Logits([.. sequences[r]]);
                worst = Math.Max(worst, MaxDelta(reference.AsSpan((sequences[r].Count - 1) * v, v), stepLogits.AsSpan(r * v, v)));
            }
        }
        Assert.True(worst <= 1e-4, $"{family}: max |Δ logit| vs each prompt alone {worst:G3} (prefill {prefillWorst:G3})");
    }

    private static double MaxDelta(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var d = 0.0;
        for (var i = 0; i < a.Length; i++)
            d = Math.Max(d, Math.Abs(a[i] - b[i]));
        return d;
    }
}
