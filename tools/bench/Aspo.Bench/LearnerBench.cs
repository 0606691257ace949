using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Aspo.Model;
using Aspo.Native.Blas;

namespace Aspo.Bench;

/// <summary>
/// `tools/bench/run learner [tiny|qwen0.5b|all]`: one training step — forward over one sequence of T tokens, log-probs
/// of every next token, loss Σ c·logπ, backward, AdamW — on random weights, through the learner seam for each backend
/// (native fp32, native bf16, TorchSharp fp32 and bf16) and PyTorch 1.13's reference loop
/// (tools/bench/torch_learner_step.py, the golden-fixture reference model), all with every core. Each variant runs in a
/// child process of its own, so its peak resident memory is its own; two rounds in alternating order, and the median over
/// both rounds' steps (each child's first step is warm-up). Ratios are against TorchSharp fp32.
/// </summary>
internal static class LearnerBench
{
    private sealed record Shape(string Name, int Hidden, int Inter, int Layers, int Heads, int Kv, int HeadDim, int Vocab, bool Tied, int T, int Steps);

    private static readonly Shape[] Shapes =
    [
        new("tiny", 128, 384, 4, 4, 2, 32, 4096, false, 256, 12),
        new("qwen0.5b", 896, 4864, 24, 14, 2, 64, 151936, true, 512, 4),
    ];

    /// <summary>A column of the table: which learner, in which precision.</summary>
    private sealed record Variant(string Label, string Backend, string Dtype);

    private static readonly Variant[] Variants =
    [
        new("native fp32", "native", "fp32"),
        new("native bf16", "native", "bf16"),
        new("TorchSharp fp32", "torch", "fp32"),
        new("TorchSharp bf16", "torch", "bf16"),
        new("PyTorch 1.13 fp32", "pytorch", "fp32"),
    ];

    public static int Run(string[] args)
    {
        var which = args.Length > 1 ? args[1] : "all";
        var threads = Environment.ProcessorCount;
        var lines = new List<string>();
        foreach (var s in Shapes.Where(s => which == "all" || s.Name == which))
        {
            var times = Variants.ToDictionary(v => v, _ => new List<double>());
            var peaks = Variants.ToDictionary(v => v, _ => 0L);
            var notes = new Dictionary<Variant, string>();
            foreach (var round in new[] { Variants, Variants.Reverse().ToArray() })
            {
                foreach (var v in round)
                {
                    if (notes.ContainsKey(v))
                        continue;
                    var result = v.Backend == "pytorch" ? PyTorch(s, threads) : Child(s, v);
                    if (result is not { } r)
                    {
                        notes[v] = "n/a";
                        continue;
                    }
                    if (r.TryGetProperty("error", out var error))
                    {
                        notes[v] = "n/a: " + error.GetString();
                        continue;
                    }
                    var steps = r.GetProperty("steps").EnumerateArray().Select(e => e.GetDouble()).ToArray();
                    times[v].AddRange(steps.Skip(1));
                    peaks[v] = Math.Max(peaks[v], r.GetProperty("peak_rss_bytes").GetInt64());
                    Console.Error.WriteLine(FormattableString.Invariant($"{s.Name} {v.Label}: {string.Join(" ", steps.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)))} s"));
                }
            }
            var reference = times[Variants[2]].Count > 0 ? BenchStats.Median(times[Variants[2]]) : double.NaN;
            var parameters = new ParameterLayout(Config(s)).TotalCount;
            foreach (var v in Variants)
            {
                if (notes.TryGetValue(v, out var note))
                {
                    lines.Add($"| {s.Name} | {parameters / 1e6:F1} M | {s.T} | {v.Label} | {note} | | | |");
                    continue;
                }
                var median = BenchStats.Median(times[v]);
                lines.Add(FormattableString.Invariant(
                    $"| {s.Name} | {parameters / 1e6:F1} M | {s.T} | {v.Label} | {median:F3} | {(s.T - 1) / median:F0} | {reference / median:F2}× | {peaks[v] / 1e9:F2} GB |"));
            }
        }
        Console.WriteLine();
        Console.WriteLine($"Learner step (forward + backward + AdamW), one sequence of T tokens, {threads} threads, medians of two alternating rounds, one process per variant");
        Console.WriteLine();
        Console.WriteLine("| model | params | T | learner | s/step | tokens/s | vs TorchSharp fp32 | peak RSS |");
        Console.WriteLine("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
        foreach (var l in lines)
            Console.WriteLine(l);
        return 0;
    }

    private static ModelConfig Config(Shape s) => new()
    {
        Family = ModelFamily.Qwen2, HiddenSize = s.Hidden, IntermediateSize = s.Inter, NumLayers = s.Layers, NumHeads = s.Heads,
        NumKvHeads = s.Kv, HeadDim = s.HeadDim, VocabSize = s.Vocab, TieWordEmbeddings = s.Tied, RopeTheta = 1e6,
    };

    /// <summary>`learner-step BACKEND DTYPE SHAPE` (child process): times the steps and prints {"steps": […], "peak_rss_bytes": …};
    /// each step's phases go to stderr.</summary>
    public static int Step(string[] args)
    {
        var s = Shapes.Single(x => x.Name == args[3]);
        var config = Config(s);
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
        ILearner learner;
        try
        {
            learner = Aspo.Pipeline.Learners.Create(config, parameters, new LearnerOptions
            {
                Backend = LearnerOptions.ParseBackend(args[1]), Precision = LearnerOptions.ParsePrecision(args[2]),
                Optimizer = new AdamWOptions { WeightDecay = 0.01 },
            });
        }
        catch (ArgumentException e)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { error = e.Message }));
            return 0;
        }
        using var _ = learner;
        var tokens = Enumerable.Range(0, s.T).Select(_ => rng.Next(s.Vocab)).ToArray();
        var batch = PackedSequences.Pack([(tokens[..1], tokens[1..])]);
        var coef = Enumerable.Range(0, s.T - 1).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var logProbs = new float[s.T - 1];
        var times = new List<double>();
        for (var step = 0; step < s.Steps; step++)
        {
            var watch = Stopwatch.StartNew();
            learner.ZeroGradients();
            learner.Score(batch, 1f, logProbs, [], forTraining: true);
            var forward = watch.Elapsed.TotalSeconds;
            learner.Backward(coef, []);
            var backward = watch.Elapsed.TotalSeconds;
            learner.OptimizerUpdate(1e-6);
            times.Add(watch.Elapsed.TotalSeconds);
            Console.Error.WriteLine(FormattableString.Invariant(
                $"{args[1]} {args[2]} {s.Name} step {step}: zero + forward {forward:F2} s, backward {backward - forward:F2} s, AdamW {times[^1] - backward:F2} s"));
        }
        Console.WriteLine(JsonSerializer.Serialize(new { steps = times, peak_rss_bytes = PeakResidentBytes() }));
        return 0;
    }

    /// <summary>VmHWM of this process: the peak resident set size.</summary>
    internal static long PeakResidentBytes()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024; // "VmHWM:\t  123456 kB"
    }

    private static JsonElement? Child(Shape s, Variant v)
    {
        var self = Environment.ProcessPath!;
        var dll = typeof(LearnerBench).Assembly.Location;
        var args = Path.GetFileNameWithoutExtension(self) == "dotnet" ? new[] { dll } : [];
        return ReferenceProcess.RunJson(self, [.. args, "learner-step", v.Backend, v.Dtype, s.Name], "the bench's own child process");
    }

    private static JsonElement? PyTorch(Shape s, int threads) =>
        ReferenceProcess.RunJson("/usr/bin/python3",
            new[] { Path.Combine(ReferenceProcess.RepositoryRoot, "tools", "bench", "torch_learner_step.py") }
                .Concat(new[] { s.Hidden, s.Inter, s.Layers, s.Heads, s.Kv, s.HeadDim, s.Vocab, s.Tied ? 1 : 0, s.T, threads, s.Steps }
                    .Select(a => a.ToString(CultureInfo.InvariantCulture))),
            "tools/setup --reference installs PyTorch 1.13");
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
