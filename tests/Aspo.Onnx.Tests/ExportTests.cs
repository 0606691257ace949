namespace Aspo.Onnx.Tests;

/// <summary>The exported graph run by ONNX Runtime against the learner's forward (which is checked against PyTorch).</summary>
public sealed class ExportTests
{
    public static TheoryData<string> Families() => new("qwen2", "llama", "qwen3");

    private static readonly int[][] Prompts = [[5, 17, 3, 9, 22], [1, 2, 3, 4, 5, 6, 7, 8, 60], [40, 41, 42]];

    [Theory]
    [MemberData(nameof(Families))]
    public void Prefill_and_8_decode_steps_match_the_learner_with_unequal_prompts(string family)
    {
        var (config, p, folder) = TestModels.Exported(family);
        using var model = OnnxDecoder.Open(folder, threads: 1);
        var generator = new Generator(model);
        var captured = new List<(float[] Logits, int[] Slots)>();
        generator.OnLogits = (_, logits, slots) => captured.Add(((float[])logits.Clone(), slots));
        var results = generator.Generate(Prompts.Select(x => new GenerationRequest(x, 1)).ToArray(),
            new SamplingParams { Temperature = 0, MaxNewTokens = 8, StopTokenIds = [] });

        var learner = TestModels.Learner(config, p);
        var v = config.VocabSize;
        double maxDiff = 0;
        for (var row = 0; row < Prompts.Length; row++)
        {
            var sequence = Prompts[row].Concat(results[row].Tokens).ToArray();
            var reference = learner.Logits(sequence);
            for (var step = 0; step < captured.Count && step < results[row].Tokens.Length; step++)
            {
                var slot = Array.IndexOf(captured[step].Slots, row);
                var position = Prompts[row].Length - 1 + step;
                for (var j = 0; j < v; j++)
                    maxDiff = Math.Max(maxDiff, Math.Abs(captured[step].Logits[slot * v + j] - reference[position * v + j]));
            }
        }
        Assert.True(maxDiff <= 1e-4, $"{family}: max |Δ logits| = {maxDiff:G3}");
        Assert.True(captured.Count >= 8);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Greedy_decoding_equals_the_learners_greedy_decoding(string family)
    {
        var (config, p, folder) = TestModels.Exported(family);
        using var model = OnnxDecoder.Open(folder, threads: 1);
        var results = new Generator(model).Generate(Prompts.Select(x => new GenerationRequest(x, 1)).ToArray(), new SamplingParams { Temperature = 0, MaxNewTokens = 12 });
        var learner = TestModels.Learner(config, p);
        for (var row = 0; row < Prompts.Length; row++)
        {
            var sequence = Prompts[row].ToList();
            var expected = new List<int>();
            for (var step = 0; step < 12; step++)
            {
                var logits = learner.Logits(sequence.ToArray());
                var last = logits.AsSpan((sequence.Count - 1) * config.VocabSize, config.VocabSize);
                var next = last.IndexOf(System.Numerics.Tensors.TensorPrimitives.Max(last));
                expected.Add(next);
                sequence.Add(next);
                if (config.EosTokenIds.Contains(next))
                    break;
            }
            Assert.Equal(expected, results[row].Tokens);
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Rollout_logprobs_match_the_learners_recomputed_logprobs(string family)
    {
        var (config, p, folder) = TestModels.Exported(family);
        using var model = OnnxDecoder.Open(folder, threads: 1);
        var requests = Prompts.SelectMany((x, i) => Enumerable.Range(0, 3).Select(s => new GenerationRequest(x, SampleSeeds.Derive(42, 0, $"p{i}", s)))).ToArray();
        var results = new Generator(model).Generate(requests, new SamplingParams { Temperature = 0.8f, MaxNewTokens = 16 });
        var learner = TestModels.Learner(config, p);
        double sum = 0, max = 0;
        var count = 0;
        for (var i = 0; i < requests.Length; i++)
        {
            var tokens = requests[i].PromptIds.Concat(results[i].Tokens).ToArray();
            var recomputed = new float[results[i].Tokens.Length];
            learner.Forward(tokens, [0, tokens.Length], [requests[i].PromptIds.Length], 0.8f, recomputed, [], forTraining: false);
            for (var t = 0; t < recomputed.Length; t++)
            {
                var d = Math.Abs(recomputed[t] - results[i].LogProbs[t]);
                sum += d;
                max = Math.Max(max, d);
                count++;
            }
        }
        Assert.True(sum / count <= 1e-5 && max <= 1e-3, $"{family}: mean |Δ| {sum / count:G3}, max |Δ| {max:G3} over {count} tokens");
    }
}
