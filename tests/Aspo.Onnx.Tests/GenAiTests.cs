using Oga = Microsoft.ML.OnnxRuntimeGenAI;

namespace Aspo.Onnx.Tests;

/// <summary>
/// Our exports loaded by ONNX Runtime GenAI 0.18 (the NuGet package, same ONNX Runtime as ours): a batch of prompts of
/// unequal length — which GenAI pads into one block — gives each row the logits and greedy tokens of that prompt run
/// alone, for every family and for int4 weights.
/// </summary>
public sealed class GenAiTests
{
    private static readonly int[][] Prompts = [[5, 9, 11, 2, 7, 3, 8, 40, 41, 42, 43], [4, 6], [257, 117, 115, 101, 114, 10, 50, 258, 10, 257, 97, 10], [99], [200, 201, 202, 258, 204, 205, 206, 207], [.. Enumerable.Range(30, 70)]];
    private const int Steps = 6;

    /// <summary>Greedy decoding of each prompt alone and of all prompts in one GenAI batch: (tokens, per-step logits of the row).</summary>
    private static (List<int>[] Tokens, List<float[]>[] Logits) Greedy(Oga.Model model, int vocab, int pad, int[][] prompts)
    {
        using var parameters = new Oga.GeneratorParams(model);
        parameters.SetSearchOption("max_length", 96);
        parameters.SetSearchOption("do_sample", false);
        parameters.SetSearchOption("batch_size", prompts.Length);
        using var generator = new Oga.Generator(model, parameters);
        using var tokenizer = new Oga.Tokenizer(model);
        using var sequences = tokenizer.EncodeBatch(prompts.Select(_ => "").ToArray()); // empty rows, then our token ids
        for (var r = 0; r < prompts.Length; r++)
            foreach (var t in prompts[r])
                sequences.Append(t, (ulong)r);
        generator.AppendTokenSequences(sequences);
        using (var ids = generator.GetInput("input_ids"))
            AssertRightPadded(ids.GetData<long>(), prompts, pad);
        var tokens = prompts.Select(_ => new List<int>()).ToArray();
        var logits = prompts.Select(_ => new List<float[]>()).ToArray();
        using (var prefill = generator.GetOutput("logits")) // [B, S, V]: row r's next-token logits sit at its last prompt token
        {
            var data = prefill.GetData<float>();
            var width = (int)prefill.Shape()[1];
            for (var r = 0; r < prompts.Length; r++)
                logits[r].Add(data.Slice((r * width + prompts[r].Length - 1) * vocab, vocab).ToArray());
        }
        for (var step = 0; step < Steps; step++)
        {
            generator.GenerateNextToken();
            var next = generator.GetNextTokens();
            for (var r = 0; r < prompts.Length; r++)
                tokens[r].Add(next[r]);
            if (step == 0)
                continue; // GenAI runs the model for a chosen token at the start of the next step: still the prefill's logits
            using var decode = generator.GetOutput("logits"); // [B, 1, V]: the decode run of the previous step's token
            var data = decode.GetData<float>();
            for (var r = 0; r < prompts.Length; r++)
                logits[r].Add(data.Slice(r * vocab, vocab).ToArray());
        }
        return (tokens, logits);
    }

    /// <summary>The graph relies on GenAI's layout: each prompt at the start of its row, then pads (PaddingLayoutTests).</summary>
    private static void AssertRightPadded(ReadOnlySpan<long> ids, int[][] prompts, int pad)
    {
        var width = ids.Length / prompts.Length;
        for (var r = 0; r < prompts.Length; r++)
            for (var j = 0; j < width; j++)
                Assert.True(ids[r * width + j] == (j < prompts[r].Length ? prompts[r][j] : pad),
                    $"GenAI laid out row {r} differently from right padding at column {j}: the exported graph would need left-padding support");
    }

    [Theory]
    [InlineData("qwen2", false)]
    [InlineData("llama", false)]
    [InlineData("qwen3", false)]
    [InlineData("qwen2", true)]
    public void A_padded_batch_in_genai_equals_each_prompt_run_alone(string family, bool int4)
    {
        var (config, _, folder) = TestModels.ExportedWithTokenizer(family, int4);
        using var model = new Oga.Model(folder);
        var pad = config.EosTokenIds[0]; // genai_config.json pad_token_id
        var batch = Greedy(model, config.VocabSize, pad, Prompts);
        for (var r = 0; r < Prompts.Length; r++)
        {
            var alone = Greedy(model, config.VocabSize, pad, [Prompts[r]]);
            Assert.Equal(alone.Tokens[0], batch.Tokens[r]);
            Assert.Equal(alone.Logits[0].Count, batch.Logits[r].Count);
            for (var s = 0; s < alone.Logits[0].Count; s++)
            {
                // fp32 logits of magnitude ~10: the tolerance is 1e-5 of the row's largest logit (one or two ulps)
                var scale = Math.Max(1f, alone.Logits[0][s].Max(Math.Abs));
                var delta = alone.Logits[0][s].Zip(batch.Logits[r][s], (x, y) => Math.Abs(x - y)).Max();
                Assert.True(delta <= 1e-5 * scale, $"{family}{(int4 ? " int4" : "")}: row {r} (prompt of {Prompts[r].Length} tokens), step {s}: max |Δ logit| {delta:G3} (largest |logit| {scale:G3}) between the batch and the prompt alone");
            }
        }
    }
}
