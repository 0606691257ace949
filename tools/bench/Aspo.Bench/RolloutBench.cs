using System.Diagnostics;
using System.Globalization;
using Aspo.Model;
using Aspo.Native.Blas;
using Aspo.Onnx;

namespace Aspo.Bench;

/// <summary>
/// `tools/bench/run rollout [tiny|qwen0.5b|all] [rounds] [batches, e.g. 1,16,64]`: rollout tokens/s with 64-token prompts and 256 new tokens at
/// batch 1, 16 and 64 — our generator (fp32, ONNX Runtime) sampling on the host and through the in-graph sampling head,
/// ONNX Runtime GenAI 0.18 on the same export (same prompts and settings; medians of alternating rounds), int4, a PyTorch
/// 1.13 KV-cache sampling loop on the same shapes (tools/bench/torch_rollout.py), a naive generator that reruns the
/// learner's forward over the whole sequence per token — and batch-1 decode speed against the memory-bandwidth bound.
/// </summary>
internal static class RolloutBench
{
    internal sealed record Shape(string Name, int Hidden, int Inter, int Layers, int Heads, int Kv, int HeadDim, int Vocab, bool Tied);

    internal static readonly Shape[] Shapes =
    [
        new("tiny", 128, 384, 4, 4, 2, 32, 4096, false),
        new("qwen0.5b", 896, 4864, 24, 14, 2, 64, 151936, true),
    ];

    internal const int PromptLength = 64, NewTokens = 256;

    /// <summary>A Qwen2 model of <paramref name="s"/>'s shape with seeded uniform(±0.025) weights and unit norms.</summary>
    internal static (ModelConfig Config, float[] Parameters) RandomModel(Shape s)
    {
        var config = new ModelConfig
        {
            Family = ModelFamily.Qwen2, HiddenSize = s.Hidden, IntermediateSize = s.Inter, NumLayers = s.Layers, NumHeads = s.Heads,
            NumKvHeads = s.Kv, HeadDim = s.HeadDim, VocabSize = s.Vocab, TieWordEmbeddings = s.Tied, RopeTheta = 1e6,
            MaxPositionEmbeddings = PromptLength + NewTokens, EosTokenIds = [s.Vocab - 1],
        };
        var layout = new ParameterLayout(config);
        var parameters = new float[layout.TotalCount];
        var rng = new Random(0);
        foreach (var t in layout.Tensors)
            for (var i = 0; i < t.Count; i++)
                parameters[t.Offset + i] = t.Name.EndsWith("norm.weight", StringComparison.Ordinal) ? 1f : (float)((rng.NextDouble() - 0.5) * 0.05);
        return (config, parameters);
    }

    public static int Run(string[] args)
    {
        var which = args.Length > 1 ? args[1] : "all";
        var rounds = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        var batches = args.Length > 3 ? args[3].Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray() : [1, 16, 64];
        var threads = Environment.ProcessorCount;
        var bandwidth = ReadBandwidth();
        var lines = new List<string>();
        var bounds = new List<string>();
        var compaction = new List<string>();
        var refill = new List<string>();
        foreach (var s in Shapes.Where(s => which == "all" || s.Name == which))
        {
            var (config, parameters) = RandomModel(s);
            var layout = new ParameterLayout(config);
            var rng = new Random(0);
            var folder = Path.Combine(Path.GetTempPath(), $"aspo-rollout-bench-{s.Name}-{Environment.ProcessId}");
            var folder4 = folder + "-int4";
            var folderHead = folder + "-head";
            // GenAI builds its token sequences with a tokenizer: the byte-level one (ids beyond it are just numbers to it)
            var tokenizerFolder = folder + "-tokenizer";
            Aspo.Data.Tokenization.ByteLevelTokenizerFiles.Write(tokenizerFolder);
            DecoderExporter.Export(config, parameters, folder, tokenizerFolder);
            DecoderExporter.Export(config, parameters, folder4, tokenizerFolder: null, new ExportOptions { Int4 = true });
            DecoderExporter.Export(config, parameters, folderHead, tokenizerFolder: null, new ExportOptions { SamplingHead = true });
            try
            {
                // one session at a time: the four 0.5B sessions (fp32, int4, head, GenAI) held together went out of memory at batch 64
                T With<T>(string f, Func<OnnxDecoder, T> run)
                {
                    using var session = OnnxDecoder.Open(f, threads);
                    return run(session);
                }
                foreach (var batch in batches)
                {
                    var requests = Enumerable.Range(0, batch).Select(i => new GenerationRequest(
                        Enumerable.Range(0, PromptLength).Select(_ => rng.Next(s.Vocab - 1)).ToArray(), SampleSeeds.Derive(1, 0, $"b{i}", 0))).ToArray();
                    var sampling = new SamplingParams { Temperature = 1f, MaxNewTokens = NewTokens };
                    // alternating rounds: host sampler, in-graph sampler, GenAI (at most 32 rows per GenAI generator)
                    var hostRates = new List<double>();
                    var headRates = new List<double>();
                    var genAiRates = new List<double>();
                    var tokens = 0;
                    var seconds = 0.0;
                    for (var round = 0; round < rounds; round++)
                    {
                        var (results, hostSeconds) = With(folder, m => Timed(() => new Generator(m).Generate(requests, sampling)));
                        seconds = hostSeconds;
                        tokens = results.Sum(r => r.Tokens.Length);
                        hostRates.Add(tokens / seconds);
                        var (viaHead, headSeconds) = With(folderHead, m => Timed(() => new Generator(m) { UseSamplingHead = true }.Generate(requests, sampling)));
                        headRates.Add(viaHead.Sum(r => r.Tokens.Length) / headSeconds);
                        if (round == 0 && !viaHead.Zip(results).All(p => p.First.Tokens.AsSpan().SequenceEqual(p.Second.Tokens)))
                            Console.Error.WriteLine($"{s.Name} batch {batch}: the in-graph sampler chose other tokens than the host sampler");
                        var (viaGenAi, genAiSeconds) = With(folder, m =>
                        {
                            using var genAi = new GenAiEngine(m, m.LoadTokenizer(), threads) { BatchSize = batch };
                            return Timed(() => genAi.Generate(requests, sampling));
                        });
                        genAiRates.Add(viaGenAi.Sum(r => r.Tokens.Length) / genAiSeconds);
                    }
                    var host = BenchStats.Median(hostRates);
                    var head = BenchStats.Median(headRates);
                    var genAiRate = BenchStats.Median(genAiRates);
                    seconds = tokens / host;
                    var (results4, seconds4) = With(folder4, m => Timed(() => new Generator(m).Generate(requests, sampling)));
                    var int4 = results4.Sum(r => r.Tokens.Length) / seconds4;
                    var torch = Torch(s, batch, threads);
                    var naive = batch == 1 || s.Name == "tiny" && batch == 16 ? Naive(config, parameters, requests, s.Name == "tiny" ? NewTokens : 16) : (double?)null;
                    Console.Error.WriteLine(FormattableString.Invariant($"{s.Name} batch {batch}: ours {host:F1} tok/s (rounds {string.Join(", ", hostRates.Select(r => r.ToString("F1", CultureInfo.InvariantCulture)))}), in-graph {head:F1}, GenAI {genAiRate:F1}, int4 {int4:F1}, torch {torch?.ToString("F1", CultureInfo.InvariantCulture) ?? "n/a"}"));
                    lines.Add(FormattableString.Invariant(
                        $"| {s.Name} | {batch} | {host:F1} | {head:F1} | {head / host:F2}× | {genAiRate:F1} | {host / genAiRate:F2}× | {int4:F1} | {(torch is { } t ? $"{t:F1}" : "n/a")} | {(torch is { } t2 ? $"{host / t2:F2}×" : "n/a")} | {(naive is { } n ? $"{n:F1}" : "not run")} |"));
                    if (batch == 64)
                        With(folder, model =>
                    {
                        // rows that stop early: every 50th token id stops (≈ 2 % per step); compaction vs GenAI's padding
                        var early = sampling with { StopTokenIds = Enumerable.Range(0, s.Vocab / 50).Select(i => i * 50).ToArray() };
                        double Rate(bool compact)
                        {
                            var w = Stopwatch.StartNew();
                            var generated = new Generator(model) { CompactFinishedRows = compact }.Generate(requests, early).Sum(r => r.Tokens.Length);
                            return generated / w.Elapsed.TotalSeconds;
                        }
                        var padded = Rate(false);
                        var compacted = Rate(true);
                        compaction.Add(FormattableString.Invariant($"| {s.Name} | {batch} | {padded:F1} | {compacted:F1} | {compacted / padded:F2}× |"));
                        {
                            // more requests than slots: calls of `batch` requests each (compaction; the rollout stage's
                            // batching) vs one call whose `batch` slots are refilled from the waiting requests
                            var many = Enumerable.Range(0, (s.Name == "tiny" ? 4 : 2) * batch).Select(i => new GenerationRequest(
                                Enumerable.Range(0, PromptLength).Select(_ => rng.Next(s.Vocab - 1)).ToArray(), SampleSeeds.Derive(2, 0, $"m{i}", 0))).ToArray();
                            var w = Stopwatch.StartNew();
                            var chunkedTokens = many.Chunk(batch).Sum(chunk => new Generator(model).Generate(chunk, early).Sum(r => r.Tokens.Length));
                            var chunked = chunkedTokens / w.Elapsed.TotalSeconds;
                            w.Restart();
                            var refilledTokens = new Generator(model) { MaxActiveRows = batch }.Generate(many, early).Sum(r => r.Tokens.Length);
                            var refilled = refilledTokens / w.Elapsed.TotalSeconds;
                            if (refilledTokens != chunkedTokens)
                                throw new InvalidOperationException("refill and chunked calls sampled different tokens");
                            refill.Add(FormattableString.Invariant($"| {s.Name} | {many.Length} | {batch} | {chunked:F1} | {refilled:F1} | {refilled / chunked:F2}× |"));
                        }
                        return 0;
                    });
                    if (batch == 1)
                    {
                        var bound = bandwidth * 1e9 / (4.0 * layout.TotalCount);
                        bounds.Add(FormattableString.Invariant($"| {s.Name} | {layout.TotalCount / 1e6:F1} M | {4.0 * layout.TotalCount / 1e6:F0} MB | {bound:F1} | {tokens / seconds:F1} | {tokens / seconds / bound * 100:F0} % |"));
                    }
                }
            }
            finally
            {
                foreach (var f in new[] { folder, folder4, folderHead, tokenizerFolder })
                    Directory.Delete(f, recursive: true);
            }
        }
        Console.WriteLine();
        Console.WriteLine($"Rollout tokens/s (all rows), {PromptLength}-token prompts, {NewTokens} new tokens, T = 1 sampling, fp32, {threads} threads; host sampler, in-graph sampler and GenAI: medians of {rounds} alternating rounds");
        Console.WriteLine();
        Console.WriteLine("| model | batch | ours fp32, host sampler | ours fp32, in-graph sampler | in-graph vs host | GenAI 0.18 (same export, ≤ 32 rows per generator) | ours vs GenAI | ours int4 (MatMulNBits, acc. 4) | PyTorch KV-cache loop | ours fp32 vs PyTorch | naive (learner forward per token) |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var l in lines)
            Console.WriteLine(l);
        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant($"Batch-1 decode against the memory-bandwidth bound (measured read bandwidth {bandwidth:F1} GB/s, {Environment.ProcessorCount} threads; every fp32 weight read once per token):"));
        Console.WriteLine();
        Console.WriteLine("| model | parameters | weight bytes/token | bound tokens/s | ours tokens/s (incl. prefill) | of bound |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var b in bounds)
            Console.WriteLine(b);
        Console.WriteLine();
        Console.WriteLine("Rows that finish early (every 50th token id stops): feeding finished rows a pad token (GenAI) vs compacting them out, tokens/s:");
        Console.WriteLine();
        Console.WriteLine("| model | batch | padding | compaction | compaction vs padding |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var c in compaction)
            Console.WriteLine(c);
        Console.WriteLine();
        Console.WriteLine("More requests than slots, same early stops: calls of one batch each (compaction) vs one call refilling freed slots (continuous batching), tokens/s:");
        Console.WriteLine();
        Console.WriteLine("| model | requests | slots | calls of one batch | refill | refill vs calls |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in refill)
            Console.WriteLine(r);
        return 0;
    }

    internal static (T Result, double Seconds) Timed<T>(Func<T> run)
    {
        var watch = Stopwatch.StartNew();
        var result = run();
        return (result, watch.Elapsed.TotalSeconds);
    }

    /// <summary>Tokens/s of regenerating with the learner's full forward per new token (no KV cache), over <paramref name="newTokens"/> tokens.</summary>
    private static double Naive(ModelConfig config, float[] parameters, GenerationRequest[] requests, int newTokens)
    {
        var learner = new Decoder(config, parameters, new OneDnnGemm());
        var watch = Stopwatch.StartNew();
        var state = 7UL;
        var scratch = Array.Empty<float>();
        var sampling = new SamplingParams { Temperature = 1f };
        foreach (var r in requests)
        {
            var sequence = r.PromptIds.ToList();
            for (var t = 0; t < newTokens; t++)
            {
                var logits = learner.Logits(sequence.ToArray());
                var (token, _, _) = Sampling.Sample(logits.AsSpan((sequence.Count - 1) * config.VocabSize, config.VocabSize), sampling, ref state, ref scratch);
                sequence.Add(token);
            }
        }
        return requests.Length * newTokens / watch.Elapsed.TotalSeconds;
    }

    internal static double? Torch(Shape s, int batch, int threads) =>
        ReferenceProcess.RunJson("/usr/bin/python3",
            new[] { Path.Combine(ReferenceProcess.RepositoryRoot, "tools", "bench", "torch_rollout.py") }
                .Concat(new[] { s.Hidden, s.Inter, s.Layers, s.Heads, s.Kv, s.HeadDim, s.Vocab, s.Tied ? 1 : 0, batch, PromptLength, NewTokens, threads }
                    .Select(a => a.ToString(CultureInfo.InvariantCulture))),
            "apt-get install python3-torch") is { } json
            ? json.GetProperty("tokens").GetDouble() / json.GetProperty("seconds").GetDouble()
            : null;

    /// <summary>
    /// Median GB/s of reading a 1 GB buffer with one thread per core (what decode does with the weights: read them
    /// once per token). A single-threaded copy underestimates it by about half on this machine.
    /// </summary>
    private static double ReadBandwidth()
    {
        var data = new float[256 << 20];
        Array.Fill(data, 1f);
        var cores = Environment.ProcessorCount;
        var part = data.Length / cores;
        var times = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var w = Stopwatch.StartNew();
            Parallel.For(0, cores, c => System.Numerics.Tensors.TensorPrimitives.Sum(data.AsSpan(c * part, part)));
            times.Add(w.Elapsed.TotalSeconds);
        }
        times.Sort();
        return data.Length * 4.0 / times[2] / 1e9;
    }
}
