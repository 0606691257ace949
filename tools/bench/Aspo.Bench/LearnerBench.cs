using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aspo.Model;
using Aspo.Native.Blas;

namespace Aspo.Bench;

/// <summary>
/// `tools/bench/run learner [tiny|qwen0.5b|all]`: one training step — forward over one sequence of T tokens, log-probs
/// of every next token, loss Σ c·logπ, backward, AdamW — on random weights, ours and PyTorch 1.13's
/// (tools/bench/torch_learner_step.py, the golden-fixture reference model) with the same thread count, same run.
/// Reports median seconds per step, tokens/s, the ratio, and MFU against the oneDNN fp32 GEMM peak measured here.
/// </summary>
internal static class LearnerBench
{
    private sealed record Shape(string Name, int Hidden, int Inter, int Layers, int Heads, int Kv, int HeadDim, int Vocab, bool Tied, int T, int Steps);

    private static readonly Shape[] Shapes =
    [
        new("tiny", 128, 384, 4, 4, 2, 32, 4096, false, 256, 12),
        new("qwen0.5b", 896, 4864, 24, 14, 2, 64, 151936, true, 512, 4),
    ];

    public static int Run(string[] args)
    {
        var which = args.Length > 1 ? args[1] : "all";
        var threads = Environment.ProcessorCount;
        var rows = new List<string>();
        var memory = new List<string>();
        var peak = GemmPeak.Measure();
        foreach (var s in Shapes.Where(s => which == "all" || s.Name == which))
        {
            var (ours, parameters, plan) = Ours(s);
            using (var self = Process.GetCurrentProcess())
                memory.Add(FormattableString.Invariant(
                    $"| {s.Name} | {plan.TotalBytes / 1e9:F2} GB ({plan}) | {self.PeakWorkingSet64 / 1e9:F2} GB |"));
            var torch = Torch(s, threads);
            var tokens = s.T - 1;
            var flops = 6.0 * parameters * s.T; // forward + backward ≈ 6·P per token (attention excluded)
            rows.Add(FormattableString.Invariant(
                $"| {s.Name} | {parameters / 1e6:F1} M | {s.T} | {ours:F3} | {tokens / ours:F0} | {(torch is null ? "n/a" : $"{torch:F3}")} | {(torch is null ? "n/a" : $"{tokens / torch:F0}")} | {(torch is null ? "n/a" : $"{torch / ours:F2}×")} | {flops / ours / (peak * 1e9) * 100:F0} % |"));
        }
        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant($"Learner step (forward + backward + AdamW), fp32, {threads} threads, medians; MFU against the oneDNN fp32 peak of {peak:F0} GFLOP/s"));
        Console.WriteLine();
        Console.WriteLine("| model | params | T | ours s/step | ours tokens/s | PyTorch s/step | PyTorch tokens/s | ours vs PyTorch | ours MFU |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
            Console.WriteLine(r);
        Console.WriteLine();
        Console.WriteLine("Memory: the plan stated from the shapes vs the process's peak working set (which also holds the .NET runtime, the native libraries and, for later rows, earlier models):");
        Console.WriteLine();
        Console.WriteLine("| model | expected (MemoryPlan) | measured peak working set |");
        Console.WriteLine("| --- | --- | ---: |");
        foreach (var m in memory)
            Console.WriteLine(m);
        return 0;
    }

    private static (double MedianSeconds, long Parameters, MemoryPlan Plan) Ours(Shape s)
    {
        var config = new ModelConfig
        {
            Family = ModelFamily.Qwen2, HiddenSize = s.Hidden, IntermediateSize = s.Inter, NumLayers = s.Layers, NumHeads = s.Heads,
            NumKvHeads = s.Kv, HeadDim = s.HeadDim, VocabSize = s.Vocab, TieWordEmbeddings = s.Tied, RopeTheta = 1e6,
        };
        var layout = new ParameterLayout(config);
        var parameters = new float[layout.TotalCount];
        var rng = new Random(0);
        foreach (var t in layout.Tensors)
        {
            var norm = t.Name.EndsWith("norm.weight", StringComparison.Ordinal);
            var span = parameters.AsSpan((int)t.Offset, (int)t.Count);
            for (var i = 0; i < span.Length; i++)
                span[i] = norm ? 1f : (float)((rng.NextDouble() - 0.5) * 0.1);
        }
        var decoder = new Decoder(config, parameters, new OneDnnGemm());
        var adam = new AdamW(parameters.LongLength, new AdamWOptions { WeightDecay = 0.01 });
        var tokens = Enumerable.Range(0, s.T).Select(_ => rng.Next(s.Vocab)).ToArray();
        var coef = Enumerable.Range(0, s.T - 1).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var logProbs = new float[s.T - 1];
        var times = new List<double>();
        for (var step = 0; step < s.Steps; step++)
        {
            var watch = Stopwatch.StartNew();
            decoder.Forward(tokens, [0, s.T], [1], 1f, logProbs, [], forTraining: true);
            decoder.ZeroGradients();
            decoder.Backward(coef, []);
            adam.Update(decoder.Parameters, decoder.Gradients, 1e-6);
            times.Add(watch.Elapsed.TotalSeconds);
            Console.Error.WriteLine(FormattableString.Invariant($"ours {s.Name} step {step}: {times[^1]:F3} s"));
        }
        return (Median(times.Skip(1).ToList()), layout.TotalCount, MemoryPlan.Estimate(config, [s.T]));
    }

    private static double? Torch(Shape s, int threads) =>
        ReferenceProcess.RunJson("/usr/bin/python3",
            new[] { Path.Combine(ReferenceProcess.RepositoryRoot, "tools", "bench", "torch_learner_step.py") }
                .Concat(new[] { s.Hidden, s.Inter, s.Layers, s.Heads, s.Kv, s.HeadDim, s.Vocab, s.Tied ? 1 : 0, s.T, threads, s.Steps }
                    .Select(a => a.ToString(CultureInfo.InvariantCulture))),
            "apt-get install python3-torch")?.GetProperty("median_s").GetDouble();

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}

/// <summary>Median GFLOP/s of oneDNN fp32 at 1024³ over 15 calls.</summary>
internal static class GemmPeak
{
    public static double Measure()
    {
        const int n = 1024;
        var gemm = new OneDnnGemm();
        var rng = new Random(1);
        var a = Enumerable.Range(0, n * n).Select(_ => (float)rng.NextDouble()).ToArray();
        var c = new float[n * n];
        var times = new List<double>();
        for (var i = 0; i < 18; i++)
        {
            var watch = Stopwatch.StartNew();
            gemm.Sgemm(false, false, n, n, n, 1f, a, n, a, n, 0f, c, n);
            if (i >= 3)
                times.Add(watch.Elapsed.TotalSeconds);
        }
        times.Sort();
        return 2.0 * n * n * n / times[times.Count / 2] / 1e9;
    }
}
