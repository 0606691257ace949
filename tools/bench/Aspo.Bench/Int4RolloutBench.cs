using System.Globalization;
using Aspo.Model;
using Aspo.Native.Blas;
using Aspo.Onnx;

namespace Aspo.Bench;

/// <summary>
/// `tools/bench/run rollout-int4 [batch] [rounds]`: int4 rollout on the Qwen2.5-0.5B shapes with the lm_head in fp32,
/// int8 and int4 (the projections are int4 in all three) against the fp32 export and a PyTorch 1.13 KV-cache loop, same
/// prompts (64 tokens) and 256 new tokens, medians of alternating rounds — and what each costs in fidelity: the mean and
/// largest |Δ log π| between the log-probs the rollout recorded and the fp32 learner's on the same tokens.
/// </summary>
internal static class Int4RolloutBench
{
    private sealed record Variant(string Name, ExportOptions Options);

    public static int Run(string[] args)
    {
        var batch = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        var threads = Environment.ProcessorCount;
        var shape = RolloutBench.Shapes.Single(s => s.Name == "qwen0.5b");
        var (config, parameters) = RolloutBench.RandomModel(shape);
        Variant[] variants =
        [
            new("fp32", new ExportOptions()),
            new("int4, fp32 head", new ExportOptions { Int4 = true, LmHeadBits = 0 }),
            new("int4, int8 head (the int4 default)", new ExportOptions { Int4 = true }),
            new("int4, int4 head", new ExportOptions { Int4 = true, LmHeadBits = 4 }),
        ];
        var root = Path.Combine(Path.GetTempPath(), $"aspo-int4-bench-{Environment.ProcessId}");
        var rng = new Random(0);
        var requests = Enumerable.Range(0, batch).Select(i => new GenerationRequest(
            Enumerable.Range(0, RolloutBench.PromptLength).Select(_ => rng.Next(shape.Vocab - 1)).ToArray(), SampleSeeds.Derive(1, 0, $"b{i}", 0))).ToArray();
        var sampling = new SamplingParams { Temperature = 1f, MaxNewTokens = RolloutBench.NewTokens };
        var rates = variants.ToDictionary(v => v.Name, _ => new List<double>());
        var firstResults = new Dictionary<string, IReadOnlyList<GenerationResult>>();
        try
        {
            foreach (var v in variants)
                DecoderExporter.Export(config, parameters, Path.Combine(root, v.Name), tokenizerFolder: null, v.Options);
            for (var round = 0; round < rounds; round++)
                foreach (var v in variants)
                {
                    // one 0.5B session at a time (memory)
                    using var session = OnnxDecoder.Open(Path.Combine(root, v.Name), threads);
                    var (results, seconds) = RolloutBench.Timed(() => new Generator(session).Generate(requests, sampling));
                    rates[v.Name].Add(results.Sum(r => r.Tokens.Length) / seconds);
                    firstResults.TryAdd(v.Name, results);
                    Console.Error.WriteLine(FormattableString.Invariant($"round {round} {v.Name}: {rates[v.Name][^1]:F1} tok/s"));
                }
        }
        finally
        {
            if (Directory.Exists(root))
                Directory.Delete(root, recursive: true);
        }
        var torch = RolloutBench.Torch(shape, batch, threads);
        var learner = new Decoder(config, parameters, new OneDnnGemm());

        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant($"Rollout on the Qwen2.5-0.5B shapes, batch {batch}, {RolloutBench.PromptLength}-token prompts, {RolloutBench.NewTokens} new tokens, T = 1, {threads} threads; medians of {rounds} alternating rounds; PyTorch 1.13 KV-cache loop once; |Δ log π| = rollout vs fp32 learner on the same tokens"));
        Console.WriteLine();
        Console.WriteLine("| export | tokens/s | vs PyTorch | vs fp32 | mean \\|Δ log π\\| | max \\|Δ log π\\| |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        var fp32 = BenchStats.Median(rates["fp32"]);
        foreach (var v in variants)
        {
            var rate = BenchStats.Median(rates[v.Name]);
            var (mean, max) = Mismatch(learner, firstResults[v.Name], requests);
            Console.WriteLine(FormattableString.Invariant(
                $"| {v.Name} | {rate:F1} | {(torch is { } t ? $"{rate / t:F2}×" : "n/a")} | {rate / fp32:F2}× | {mean:E2} | {max:E2} |"));
        }
        Console.WriteLine(FormattableString.Invariant($"| PyTorch 1.13 KV-cache loop (fp32) | {(torch is { } t2 ? $"{t2:F1}" : "n/a")} | 1.00× | | | |"));
        return torch is null ? 1 : 0;
    }

    /// <summary>Mean and largest |recorded − learner| log-prob over every sampled token.</summary>
    private static (double Mean, double Max) Mismatch(Decoder learner, IReadOnlyList<GenerationResult> results, GenerationRequest[] requests)
    {
        double sum = 0, max = 0;
        var count = 0;
        foreach (var (result, request) in results.Zip(requests))
        {
            int[] tokens = [.. request.PromptIds, .. result.Tokens];
            var reference = new float[result.Tokens.Length];
            learner.Forward(tokens, [0, tokens.Length], [request.PromptIds.Length], 1f, reference, [], forTraining: false);
            for (var i = 0; i < reference.Length; i++)
            {
                var d = Math.Abs(reference[i] - result.LogProbs[i]);
                sum += d;
                max = Math.Max(max, d);
                count++;
            }
        }
        return (sum / count, max);
    }
}
