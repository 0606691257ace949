using System.Text.Json.Nodes;
using Aspo.Model;

namespace Aspo.Onnx.Tests;

public sealed class SamplingTests
{
    /// <summary>
    /// The rollout's sampler and the learner's vocabulary head compute log π and the entropy with one kernel
    /// (<see cref="SoftmaxRow"/>): for the same logits row they give the same bits, at any temperature and any
    /// vocabulary size (including rows that do not fill the last 16-lane block).
    /// </summary>
    [Fact]
    public void Sampler_and_learner_record_the_same_logprob_and_entropy_for_the_same_logits()
    {
        var rng = new Random(12);
        foreach (var vocab in new[] { 5, 16, 97, 4096, 151_669 })
        {
            foreach (var temperature in new[] { 1f, 0.7f, 1.3f })
            {
                var logits = Enumerable.Range(0, vocab).Select(_ => (float)(rng.NextDouble() * 20 - 10)).ToArray();
                var state = (ulong)rng.NextInt64();
                var scratch = Array.Empty<float>();
                var (token, logProb, entropy) = Sampling.Sample(logits, new SamplingParams { Temperature = temperature }, ref state, ref scratch);
                var (learnerLogProb, learnerEntropy) = VocabKernels.Score(logits, token, 1f / temperature, new float[vocab]);
                Assert.Equal(BitConverter.SingleToInt32Bits(logProb), BitConverter.SingleToInt32Bits(learnerLogProb));
                Assert.Equal(BitConverter.SingleToInt32Bits(entropy), BitConverter.SingleToInt32Bits(learnerEntropy));
            }
        }
    }

    /// <summary>Upper 0.1 % point of chi-square with <paramref name="df"/> degrees of freedom (Wilson–Hilferty).</summary>
    private static double ChiSquareCritical(int df)
    {
        const double z = 3.0902; // standard normal 99.9 %
        var a = 2.0 / (9 * df);
        return df * Math.Pow(1 - a + z * Math.Sqrt(a), 3);
    }

    /// <summary>The settings the distribution tests draw with: (temperature, top-k, top-p).</summary>
    public static readonly TheoryData<float, int, float> DistributionSettings = new()
    {
        { 1.0f, 0, 1.0f }, { 0.7f, 0, 1.0f }, { 1.0f, 5, 1.0f }, { 1.3f, 0, 0.8f }, { 0.9f, 8, 0.9f },
    };

    /// <summary>The one logits row (20 tokens) the distribution tests draw from.</summary>
    internal static float[] DistributionLogits()
    {
        var rng = new Random(3);
        return Enumerable.Range(0, 20).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    /// <summary>
    /// Checks 20,000 draws (<paramref name="draw"/> i returns token and log-prob) against softmax(logits/T) after top-k
    /// then top-p truncation, computed here independently in double: chi-square at the 0.1 % level, nothing drawn
    /// outside the nucleus, and every log-prob the full-vocabulary one.
    /// </summary>
    internal static void AssertDrawsFollowTheTruncatedDistribution(float[] logits, float temperature, int topK, float topP, Func<int, (int Token, float LogProb)> draw)
    {
        // expected: softmax(z/T), keep top-k, then the smallest descending prefix with mass ≥ top_p, renormalised
        var probs = logits.Select(z => Math.Exp(z / temperature)).ToArray();
        var order = Enumerable.Range(0, probs.Length).OrderByDescending(j => probs[j]).ToArray();
        var kept = topK > 0 ? order.Take(topK).ToArray() : order;
        var keptMass = kept.Sum(j => probs[j]);
        var cumulative = 0.0;
        var nucleus = new List<int>();
        foreach (var j in kept)
        {
            nucleus.Add(j);
            cumulative += probs[j];
            if (cumulative >= topP * keptMass)
                break;
        }
        var mass = nucleus.Sum(j => probs[j]);

        const int draws = 20_000;
        var counts = new int[logits.Length];
        var fullLogSum = Math.Log(probs.Sum());
        for (var i = 0; i < draws; i++)
        {
            var (token, logProb) = draw(i);
            counts[token]++;
            Assert.True(Math.Abs(logProb - (Math.Log(probs[token]) - fullLogSum)) < 1e-5); // full-vocabulary log-prob, not the truncated one
        }
        var chi = 0.0;
        foreach (var j in nucleus)
        {
            var expected = draws * probs[j] / mass;
            chi += (counts[j] - expected) * (counts[j] - expected) / expected;
        }
        Assert.Equal(draws, nucleus.Sum(j => counts[j])); // nothing outside the nucleus
        Assert.True(chi < ChiSquareCritical(Math.Max(1, nucleus.Count - 1)), $"chi-square {chi:F1} with {nucleus.Count - 1} degrees of freedom");
    }

    /// <summary>20,000 draws from one logits row follow softmax(logits/T) after top-k/top-p truncation (fixed seed).</summary>
    [Theory]
    [MemberData(nameof(DistributionSettings))]
    public void Draws_follow_the_truncated_distribution(float temperature, int topK, float topP)
    {
        var logits = DistributionLogits();
        var p = new SamplingParams { Temperature = temperature, TopK = topK, TopP = topP };
        var state = 12345UL;
        var scratch = Array.Empty<float>();
        AssertDrawsFollowTheTruncatedDistribution(logits, temperature, topK, topP, _ =>
        {
            var (token, logProb, _) = Sampling.Sample(logits, p, ref state, ref scratch);
            return (token, logProb);
        });
    }

    [Fact]
    public void Same_seed_gives_the_same_samples_regardless_of_batch_composition()
    {
        var (_, _, folder) = TestModels.Exported("qwen3");
        using var model = OnnxDecoder.Open(folder, threads: 1);
        var generator = new Generator(model);
        var sampling = new SamplingParams { Temperature = 1.0f, MaxNewTokens = 20 };
        int[] prompt = [3, 14, 15, 92];
        var target = new GenerationRequest(prompt, SampleSeeds.Derive(9, 2, "uid-7", 3));
        var alone = generator.Generate([target], sampling)[0];
        var others = Enumerable.Range(0, 6).Select(i => new GenerationRequest([(i * 7) % 90 + 1, 2, 3], SampleSeeds.Derive(9, 2, $"other-{i}", 0))).ToList();
        others.Insert(4, target);
        var inBatch = generator.Generate(others, sampling)[4];
        Assert.Equal(alone.Tokens, inBatch.Tokens);
        Assert.Equal(alone.LogProbs.Select(x => Math.Round(x, 4)), inBatch.LogProbs.Select(x => Math.Round(x, 4)));
        // the seed is a function of (master, iteration, uid, sample index) only
        Assert.Equal(SampleSeeds.Derive(9, 2, "uid-7", 3), SampleSeeds.Derive(9, 2, "uid-7", 3));
        Assert.NotEqual(SampleSeeds.Derive(9, 2, "uid-7", 3), SampleSeeds.Derive(9, 2, "uid-7", 4));
        Assert.NotEqual(SampleSeeds.Derive(9, 2, "uid-7", 3), SampleSeeds.Derive(9, 3, "uid-7", 3));
    }

    [Fact]
    public void Stop_tokens_stop_strings_and_length_set_the_finish_reason()
    {
        var (config, _, folder) = TestModels.Exported("qwen2");
        using var model = OnnxDecoder.Open(folder, threads: 1);
        var generator = new Generator(model);
        var greedy = generator.Generate([new GenerationRequest([1, 2, 3], 0)], new SamplingParams { Temperature = 0, MaxNewTokens = 6 })[0];
        Assert.Equal("length", greedy.FinishReason);
        Assert.Equal(6, greedy.Tokens.Length);
        var stopAt = greedy.Tokens[2];
        var stopped = generator.Generate([new GenerationRequest([1, 2, 3], 0)], new SamplingParams { Temperature = 0, MaxNewTokens = 6, StopTokenIds = [stopAt] })[0];
        Assert.Equal("stop", stopped.FinishReason);
        Assert.Equal(greedy.Tokens[..(Array.IndexOf(greedy.Tokens, stopAt) + 1)], stopped.Tokens); // the stop token is kept, with its log-prob
        Assert.Equal(stopped.Tokens.Length, stopped.LogProbs.Length);
        _ = config;
    }

    /// <summary>Stop strings end a row at the token whose text completes the string (a string spanning tokens too).</summary>
    [Fact]
    public void Stop_strings_stop_at_the_token_that_completes_them()
    {
        var (_, _, folder) = TestModels.Exported("qwen2");
        using var model = OnnxDecoder.Open(folder, threads: 1);
        // ids below 97 of the Qwen3 byte-level vocabulary are single printable characters: every sampled token is text
        var tokenizer = Aspo.Data.Tokenization.BpeTokenizer.Load(Path.Combine(
            Aspo.Native.NativeLibraryLocator.FindRepositoryNativeDirectory(AppContext.BaseDirectory)!, "tokenizers", "qwen3", "tokenizer.json"));
        var generator = new Generator(model, tokenizer);
        var free = generator.Generate([new GenerationRequest([1, 2, 3], 0)], new SamplingParams { Temperature = 0, MaxNewTokens = 16, StopTokenIds = [] })[0];
        Assert.Equal(16, free.Text!.Length);
        var stop = free.Text.Substring(5, 3); // spans three tokens, complete at token 8 (or earlier if it occurs before)
        var first = free.Text.IndexOf(stop, StringComparison.Ordinal) + stop.Length;
        var stopped = generator.Generate([new GenerationRequest([1, 2, 3], 0)], new SamplingParams { Temperature = 0, MaxNewTokens = 16, StopTokenIds = [], StopStrings = ["never", stop] })[0];
        Assert.Equal("stop", stopped.FinishReason);
        Assert.Equal(free.Tokens[..first], stopped.Tokens);
        Assert.Equal(free.Text[..first], stopped.Text);
    }

    /// <summary>Continuous batching: 2 slots refilled from 9 waiting requests give the samples of one big batch.</summary>
    [Fact]
    public void Refilling_freed_slots_changes_no_sample()
    {
        var (_, _, folder) = TestModels.Exported("qwen3");
        using var model = OnnxDecoder.Open(folder, threads: 1);
        // three prompts of unequal length, three samples each, interleaved: identical prompts are still prefilled once
        int[][] prompts = [[4, 8, 15, 16], [23, 42], [7, 1, 9, 9, 2, 5]];
        var requests = Enumerable.Range(0, 9).Select(i => new GenerationRequest(prompts[i % 3], SampleSeeds.Derive(3, 1, $"p{i % 3}", i / 3))).ToArray();
        var sampling = new SamplingParams { Temperature = 1.1f, MaxNewTokens = 20, StopTokenIds = [3, 5, 8, 13, 21, 34, 55] };
        var whole = new Generator(model).Generate(requests, sampling);
        Assert.Contains(whole, r => r.FinishReason == "stop");
        Assert.Contains(whole, r => r.Tokens.Length > 4);
        foreach (var (width, compact) in new[] { (2, true), (2, false), (1, true), (4, true) })
        {
            var refilled = new Generator(model) { MaxActiveRows = width, CompactFinishedRows = compact }.Generate(requests, sampling);
            for (var i = 0; i < requests.Length; i++)
            {
                Assert.Equal(whole[i].Tokens, refilled[i].Tokens);
                Assert.Equal(whole[i].FinishReason, refilled[i].FinishReason);
                Assert.True(whole[i].LogProbs.Zip(refilled[i].LogProbs, (a, b) => Math.Abs(a - b)).DefaultIfEmpty(0).Max() <= 1e-5);
            }
        }
        Assert.Contains("max active rows must be at least 1", Assert.Throws<ArgumentException>(() => new Generator(model) { MaxActiveRows = 0 }.Generate(requests, sampling)).Message);
    }

    /// <summary>Rows that stop early are compacted out of the batch; the samples are the same as without compaction.</summary>
    [Fact]
    public void Compacting_finished_rows_changes_no_sample()
    {
        var (_, _, folder) = TestModels.Exported("llama");
        using var model = OnnxDecoder.Open(folder, threads: 1);
        var requests = Enumerable.Range(0, 8).Select(i => new GenerationRequest([i + 1, 2 * i + 3, 7], SampleSeeds.Derive(5, 0, $"q{i}", 0))).ToArray();
        // frequent stop tokens so rows finish at different steps
        var sampling = new SamplingParams { Temperature = 1.2f, MaxNewTokens = 24, StopTokenIds = [3, 5, 8, 13, 21, 34] };
        var compacted = new Generator(model) { CompactFinishedRows = true }.Generate(requests, sampling);
        var padded = new Generator(model) { CompactFinishedRows = false }.Generate(requests, sampling);
        Assert.Contains(compacted, r => r.FinishReason == "stop");
        Assert.Contains(compacted, r => r.Tokens.Length > 3);
        for (var i = 0; i < requests.Length; i++)
        {
            Assert.Equal(padded[i].Tokens, compacted[i].Tokens);
            Assert.Equal(padded[i].FinishReason, compacted[i].FinishReason);
            Assert.True(padded[i].LogProbs.Zip(compacted[i].LogProbs, (a, b) => Math.Abs(a - b)).DefaultIfEmpty(0).Max() <= 1e-5);
        }
    }

    [Fact]
    public void Bad_requests_and_settings_are_argument_errors()
    {
        var (_, _, folder) = TestModels.Exported("qwen2");
        using var model = OnnxDecoder.Open(folder, threads: 1);
        var generator = new Generator(model);
        Assert.Contains("exceeds the model's context length 128", Assert.Throws<ArgumentException>(() =>
            generator.Generate([new GenerationRequest([1, 2], 0)], new SamplingParams { MaxNewTokens = 200 })).Message);
        Assert.Contains("outside [0, 97)", Assert.Throws<ArgumentException>(() => generator.Generate([new GenerationRequest([1, 500], 0)], new SamplingParams())).Message);
        Assert.Contains("top_p must be in (0, 1]", Assert.Throws<ArgumentException>(() => generator.Generate([new GenerationRequest([1], 0)], new SamplingParams { TopP = 0 })).Message);
        Assert.Contains("stop strings need a tokenizer", Assert.Throws<ArgumentException>(() => generator.Generate([new GenerationRequest([1], 0)], new SamplingParams { StopStrings = ["\n"] })).Message);
    }

    [Fact]
    public void Broken_model_folders_are_one_clear_error()
    {
        var (config, p, _) = TestModels.Exported("qwen2");
        var folder = Directory.CreateTempSubdirectory("aspo-broken-export-").FullName;
        try
        {
            DecoderExporter.Export(config, p, folder, tokenizerFolder: null);
            var genai = Path.Combine(folder, "genai_config.json");
            var json = JsonNode.Parse(File.ReadAllText(genai))!.AsObject();
            json["model"]!["vocab_size"] = 100;
            File.WriteAllText(genai, json.ToJsonString());
            var e = Assert.Throws<ModelFormatException>(() => OnnxDecoder.Open(folder));
            Assert.Contains($"{genai}: model.vocab_size 100 does not match the logits width 97", e.Message);

            json["model"]!["vocab_size"] = 97;
            json["model"]!["decoder"]!["num_key_value_heads"] = 4;
            File.WriteAllText(genai, json.ToJsonString());
            Assert.Contains("num_key_value_heads 4 / head_size 16 do not match", Assert.Throws<ModelFormatException>(() => OnnxDecoder.Open(folder)).Message);

            json["model"]!["decoder"]!["num_key_value_heads"] = "two";
            File.WriteAllText(genai, json.ToJsonString());
            Assert.Contains("field \"model.decoder.num_key_value_heads\" must be a positive integer", Assert.Throws<ModelFormatException>(() => OnnxDecoder.Open(folder)).Message);

            DecoderExporter.Export(config, p, folder, tokenizerFolder: null);
            File.Delete(Path.Combine(folder, "model.onnx.data"));
            Assert.Contains("model.onnx.data: the external data file", Assert.Throws<ModelFormatException>(() => OnnxDecoder.Open(folder)).Message);

            File.Delete(genai);
            Assert.Contains("genai_config.json not found", Assert.Throws<ModelFormatException>(() => OnnxDecoder.Open(folder)).Message);

            Assert.Contains("head_dim 10 cannot be exported", Assert.Throws<ModelFormatException>(() =>
                DecoderExporter.Export(config with { HeadDim = 10 }, new float[new ParameterLayout(config with { HeadDim = 10 }).TotalCount], folder, null)).Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
