using Aspo.Data;
using Microsoft.ML.OnnxRuntime;
using DataType = Aspo.Onnx.Proto.TensorProto.Types.DataType;

namespace Aspo.Onnx.Tests;

/// <summary>
/// The in-graph sampler (<see cref="SamplingHead"/>) against the host sampler (<see cref="Sampling.Sample"/>): given the
/// same uniform number it picks the same token with the same log-prob and entropy, its draws follow the truncated
/// distribution, and a generator sampling in the graph produces the host generator's samples.
/// </summary>
public sealed class SamplingHeadTests
{
    /// <summary>A graph of the head alone: logits [rows, 1, V] in, (token, log-prob, entropy) per row out.</summary>
    private static InferenceSession HeadOnly(int vocab)
    {
        var g = new OnnxGraphBuilder();
        g.Input("logits", DataType.Float, "batch_size", "sequence_length", vocab);
        SamplingHead.Append(g, "logits", vocab);
        return OnnxRuntime.Open(g.ToBytes(), new OnnxSessionSettings { Threads = 1 }, "sampling head test graph");
    }

    private static (long[] Tokens, float[] LogProbs, float[] Entropies) RunHead(InferenceSession session, float[] logits, int rows, int vocab, SamplingParams p, double[] uniforms)
    {
        var tokens = new long[rows];
        var logProbs = new float[rows];
        var entropies = new float[rows];
        string[] inputNames = ["logits", SamplingHead.Temperature, SamplingHead.TopK, SamplingHead.TopP, SamplingHead.Uniform];
        string[] outputNames = [SamplingHead.Token, SamplingHead.LogProb, SamplingHead.Entropy];
        OrtValue[] inputs =
        [
            OnnxRuntime.Tensor(logits.AsMemory(), rows, 1, vocab), OnnxRuntime.Tensor(new[] { p.Temperature }.AsMemory(), 1),
            OnnxRuntime.Tensor(new[] { (long)p.TopK }.AsMemory(), 1), OnnxRuntime.Tensor(new[] { p.TopP }.AsMemory(), 1),
            OnnxRuntime.Tensor(uniforms.AsMemory(), rows),
        ];
        OrtValue[] outputs = [OnnxRuntime.Tensor(tokens.AsMemory(), rows), OnnxRuntime.Tensor(logProbs.AsMemory(), rows), OnnxRuntime.Tensor(entropies.AsMemory(), rows)];
        try
        {
            OnnxRuntime.Run(session, "sampling head test graph", inputNames, inputs, outputNames, outputs);
        }
        finally
        {
            foreach (var v in inputs.Concat(outputs))
                v.Dispose();
        }
        return (tokens, logProbs, entropies);
    }

    /// <summary>
    /// 600 rows of varied logits (wide and narrow ranges, exact ties, a row of equal logits, a dominant token) under
    /// every kind of setting: greedy, plain, top-k (including 1 and above V), top-p, both. Same uniforms → same token,
    /// log-prob and entropy within 1e-6 of the host sampler's.
    /// </summary>
    [Theory]
    [InlineData(1.0f, 0, 1.0f)]
    [InlineData(0.0f, 0, 1.0f)]
    [InlineData(0.6f, 0, 1.0f)]
    [InlineData(1.0f, 1, 1.0f)]
    [InlineData(1.0f, 7, 1.0f)]
    [InlineData(1.3f, 500, 1.0f)]
    [InlineData(1.0f, 0, 0.9f)]
    [InlineData(0.7f, 0, 0.3f)]
    [InlineData(1.1f, 20, 0.95f)]
    [InlineData(0.0f, 5, 0.5f)]
    public void Same_uniforms_give_the_host_samplers_tokens(float temperature, int topK, float topP)
    {
        const int vocab = 300, rows = 600;
        var rng = new Random(17);
        var logits = new float[rows * vocab];
        for (var r = 0; r < rows; r++)
        {
            var row = logits.AsSpan(r * vocab, vocab);
            var scale = (r % 4) switch { 0 => 1.0, 1 => 8.0, 2 => 0.05, _ => 3.0 };
            for (var j = 0; j < vocab; j++)
                row[j] = (float)((rng.NextDouble() - 0.5) * 2 * scale);
            if (r % 5 == 0)
                for (var j = 0; j < vocab; j += 3)
                    row[j] = row[0]; // exact ties
            if (r == 1)
                row.Fill(0.25f);
            if (r % 7 == 0)
                row[rng.Next(vocab)] = 40f; // one dominant token
        }
        var p = new SamplingParams { Temperature = temperature, TopK = topK, TopP = topP };
        var states = Enumerable.Range(0, rows).Select(r => SampleSeeds.Derive(5, 1, $"row{r}", r)).ToArray();
        var uniforms = states.Select(s => Sampling.Draws(p) ? SplitMix64.NextDouble(ref s) : 0).ToArray();
        using var session = HeadOnly(vocab);
        var (tokens, logProbs, entropies) = RunHead(session, logits, rows, vocab, p, uniforms);
        var scratch = Array.Empty<float>();
        for (var r = 0; r < rows; r++)
        {
            var state = states[r];
            var (token, logProb, entropy) = Sampling.Sample(logits.AsSpan(r * vocab, vocab), p, ref state, ref scratch);
            Assert.True(token == tokens[r], $"row {r}: host token {token}, head token {tokens[r]}");
            Assert.True(Math.Abs(logProb - logProbs[r]) <= 1e-6, $"row {r}: host log-prob {logProb}, head {logProbs[r]}");
            Assert.True(Math.Abs(entropy - entropies[r]) <= 1e-6 * Math.Max(1, Math.Abs(entropy)), $"row {r}: host entropy {entropy}, head {entropies[r]}");
        }
    }

    /// <summary>The 20,000-draw distribution test of the host sampler, drawn by the head (one row per draw).</summary>
    [Theory]
    [MemberData(nameof(SamplingTests.DistributionSettings), MemberType = typeof(SamplingTests))]
    public void Head_draws_follow_the_truncated_distribution(float temperature, int topK, float topP)
    {
        const int draws = 20_000;
        var row = SamplingTests.DistributionLogits();
        var logits = new float[draws * row.Length];
        for (var i = 0; i < draws; i++)
            row.CopyTo(logits, i * row.Length);
        var state = 12345UL;
        var uniforms = Enumerable.Range(0, draws).Select(_ => SplitMix64.NextDouble(ref state)).ToArray();
        using var session = HeadOnly(row.Length);
        var (tokens, logProbs, _) = RunHead(session, logits, draws, row.Length, new SamplingParams { Temperature = temperature, TopK = topK, TopP = topP }, uniforms);
        SamplingTests.AssertDrawsFollowTheTruncatedDistribution(row, temperature, topK, topP, i => ((int)tokens[i], logProbs[i]));
    }

    /// <summary>
    /// An exported decoder with the head: the generator sampling in the graph gives the host generator's tokens and
    /// finish reasons (log-probs within 1e-5), with continuous batching and early stops; the folder still serves plain
    /// logits, GenAI refuses it by name, and a folder without the head is refused by the head generator by name.
    /// </summary>
    [Theory]
    [InlineData("qwen2", 1.0f, 0, 1.0f)]
    [InlineData("llama", 0.8f, 10, 0.9f)]
    [InlineData("qwen3", 0.0f, 0, 1.0f)]
    public void Generator_sampling_in_the_graph_gives_the_host_samples(string family, float temperature, int topK, float topP)
    {
        var (config, parameters, plainFolder) = TestModels.Exported(family);
        var folder = Directory.CreateTempSubdirectory("aspo-head-export-").FullName;
        try
        {
            DecoderExporter.Export(config, parameters, folder, tokenizerFolder: null, new ExportOptions { SamplingHead = true });
            using var model = OnnxDecoder.Open(folder, threads: 1);
            using var plain = OnnxDecoder.Open(plainFolder, threads: 1);
            Assert.True(model.HasSamplingHead);
            Assert.False(plain.HasSamplingHead);
            int[][] prompts = [[4, 8, 15, 16], [23, 42], [7, 1, 9, 9, 2, 5]];
            var requests = Enumerable.Range(0, 9).Select(i => new GenerationRequest(prompts[i % 3], SampleSeeds.Derive(3, 1, $"p{i % 3}", i / 3))).ToArray();
            var sampling = new SamplingParams { Temperature = temperature, TopK = topK, TopP = topP, MaxNewTokens = 20, StopTokenIds = [3, 5, 8, 13, 21, 34, 55], RecordEntropy = true };
            var host = new Generator(plain).Generate(requests, sampling);
            Assert.Contains(host, r => r.Tokens.Length > 4);
            foreach (var width in new int?[] { null, 2 })
            {
                var head = new Generator(model) { UseSamplingHead = true, MaxActiveRows = width }.Generate(requests, sampling);
                for (var i = 0; i < requests.Length; i++)
                {
                    Assert.Equal(host[i].Tokens, head[i].Tokens);
                    Assert.Equal(host[i].FinishReason, head[i].FinishReason);
                    Assert.True(host[i].LogProbs.Zip(head[i].LogProbs, (a, b) => Math.Abs(a - b)).DefaultIfEmpty(0).Max() <= 1e-5);
                    Assert.True(host[i].Entropies!.Zip(head[i].Entropies!, (a, b) => Math.Abs(a - b)).DefaultIfEmpty(0).Max() <= 1e-5);
                }
            }
            // the same folder sampled on the host (logits out)
            var viaLogits = new Generator(model).Generate(requests, sampling);
            Assert.Equal(host.Select(r => r.Tokens), viaLogits.Select(r => r.Tokens));
            var genAi = Assert.Throws<ArgumentException>(() => new GenAiEngine(model, null!));
            Assert.Contains($"{model.Folder} was exported with --sampling-head, whose inputs ONNX Runtime GenAI does not feed", genAi.Message);
            var refused = Assert.Throws<ArgumentException>(() => new Generator(plain) { UseSamplingHead = true }.Generate(requests, sampling));
            Assert.Contains($"{plain.ModelPath} has no sampling head: export it with --sampling-head", refused.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
