using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Aspo.Data.Shards;
using Aspo.Model;
using Aspo.Pipeline;
using Aspo.Pipeline.Config;

namespace Aspo.Bench;

/// <summary>
/// `tools/bench/run iteration [prompts] [n] [new tokens] [micro-batch|auto] [fp32|bf16] [iterations]`: whole pipeline iterations (default 2: the second keeps the learner)
/// at Qwen2.5-0.5B shapes (hidden 896, 24 layers, 14 heads, 2 KV heads, MLP 4864) with the Qwen3 tokenizer's vocabulary,
/// random weights, on the shipped arithmetic prompts (default 16 prompts × 8 samples × 256 new tokens, micro-batch from
/// the memory plan): a table per stage — seconds, tokens/s, peak resident memory — and the learn stage's throughput
/// against the single-sequence learner step at the same tokens per micro-batch, same process, same run.
/// </summary>
internal static class IterationBench
{
    public static int Run(string[] args)
    {
        string Arg(int i, string fallback) => args.Length > i ? args[i] : fallback;
        var prompts = int.Parse(Arg(1, "16"), CultureInfo.InvariantCulture);
        var samples = int.Parse(Arg(2, "8"), CultureInfo.InvariantCulture);
        var newTokens = int.Parse(Arg(3, "256"), CultureInfo.InvariantCulture);
        var micro = Arg(4, "auto");
        var dtype = Arg(5, "fp32");
        var iterations = int.Parse(Arg(6, "2"), CultureInfo.InvariantCulture);
        var root = ReferenceProcess.RepositoryRoot;
        var work = Directory.CreateTempSubdirectory("aspo-iteration-bench-").FullName;
        try
        {
            // the model: Qwen2.5-0.5B shapes, the Qwen3 tokenizer (its vocabulary sizes the embedding and the head)
            var tokenizer = Path.Combine(Aspo.Native.NativeLibraryLocator.FindRepositoryNativeDirectory(AppContext.BaseDirectory)
                ?? throw new InvalidOperationException("run tools/setup first (.native/tokenizers/qwen3)"), "tokenizers", "qwen3");
            var bpe = Aspo.Data.Tokenization.BpeTokenizer.Load(Path.Combine(tokenizer, "tokenizer.json"));
            var config = Qwen05Shapes(bpe);
            var model = Path.Combine(work, "model");
            Directory.CreateDirectory(model);
            Checkpoint.Save(model, config, ModelInit.Random(config, seed: 1));
            foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
                if (File.Exists(Path.Combine(tokenizer, f)))
                    File.Copy(Path.Combine(tokenizer, f), Path.Combine(model, f));
            var yaml = Path.Combine(work, "pipeline.yaml");
            File.WriteAllText(yaml, FormattableString.Invariant($"""
                run: {"{"}name: iteration-bench, seed: 1, iterations: {iterations}, threads: 0, output: {Path.Combine(work, "run")}{"}"}
                model: {"{"}path: {model}{"}"}
                data: {"{"}train: {Path.Combine(root, "datasets", "arith", "train.parquet")}{"}"}
                rollout: {"{"}prompts_per_iteration: {prompts}, n: {samples}, temperature: 1.0, max_new_tokens: {newTokens}, batch_size: {prompts * samples}{"}"}
                algorithm: {"{"}loss: aspo, mini_batch: {prompts * samples}, micro_batch: {micro}{"}"}
                optimizer: {"{"}lr: 1.0e-6{"}"}
                learner: {"{"}dtype: {dtype}{"}"}
                """));
            // the loop itself (as `aspo run` does, so the learner is kept from one learn stage to the next), each stage
            // timed with its own peak resident memory
            var completed = new List<(RunState Stage, double Seconds, long PeakBytes)>();
            var run = new PipelineRun(PipelineConfig.Load(yaml), Console.Error)
            {
                StageStarting = _ =>
                {
                    GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                    ResetPeakResident();
                },
                StageCompleted = (stage, elapsed) => completed.Add((stage, elapsed.TotalSeconds, LearnerBench.PeakResidentBytes())),
            };
            run.Execute();
            var metrics = File.ReadLines(run.RunDirectory.MetricsPath).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
            var stages = new List<(string Name, double Seconds, double Tokens, long PeakBytes)>();
            var learnRates = new List<(int Iteration, double TokensPerSecond, bool Reused)>();
            var tokensPerMicro = 0;
            var microBatches = 0;
            var microBatch = 0;
            foreach (var (stage, seconds, peak) in completed)
            {
                var i = stage.Iteration;
                switch (stage.Stage)
                {
                    case Stage.Export:
                        stages.Add(($"{i}: export (fp32 ONNX)", seconds, double.NaN, peak));
                        break;
                    case Stage.Rollout:
                        var generated = ReadRows(run.RunDirectory.ShardsFolder(i)).Sum(r => (double)r.ResponseTokenIds.Length);
                        stages.Add(($"{i}: rollout (generated tokens)", seconds, generated, peak));
                        break;
                    case Stage.Learn:
                        var rows = ReadRows(run.RunDirectory.ShardsFolder(i)).Where(r => r.ResponseTokenIds.Length > 0).ToList();
                        var data = metrics.Last(m => m["kind"]!.GetValue<string>() == "iteration" && m["iteration"]!.GetValue<int>() == i)["data"]!.AsObject();
                        double D(string name) => data[name]!.GetValue<double>();
                        var processed = rows.Sum(r => (double)(r.PromptTokenIds.Length + r.ResponseTokenIds.Length));
                        var reused = D("learn/learner_reused") > 0;
                        stages.Add(($"{i}: learn stage (all){(reused ? ", learner kept" : ", learner loaded")}", seconds, processed, peak));
                        stages.Add(($"{i}:   π_old recompute (forward)", D("timing_s/recompute"), processed, 0));
                        stages.Add(($"{i}:   optimizer steps (forward + backward + AdamW)", D("timing_s/learn_steps"), processed, 0));
                        microBatch = (int)D("learn/micro_batch");
                        microBatches = (int)Math.Ceiling(rows.Count / (double)microBatch);
                        tokensPerMicro = (int)Math.Round(processed / microBatches);
                        learnRates.Add((i, processed / D("timing_s/learn_steps"), reused));
                        break;
                }
            }

            // the learner benchmark's step at the same tokens per micro-batch: one sequence of that length, forward +
            // backward per micro-batch-sized sequence, one AdamW per step as in the learn stage (median of 3 after a warm-up)
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            // at most 4 micro-batches per AdamW step: the rate is per micro-batch token (AdamW's 0.25 s is < 1 % of a step)
            var single = SingleSequence(Checkpoint.Load(run.RunDirectory.PolicyFolder(iterations)).Parameters, config, tokensPerMicro, Math.Min(microBatches, 4), dtype);

            Console.WriteLine();
            Console.WriteLine(FormattableString.Invariant(
                $"{iterations} iterations at Qwen2.5-0.5B shapes ({new ParameterLayout(config).TotalCount / 1e6:F0} M parameters, vocabulary {config.VocabSize}), {prompts} prompts × {samples} samples × up to {newTokens} new tokens, learner {dtype}, micro-batch {microBatch} sequences, {Environment.ProcessorCount} threads"));
            Console.WriteLine();
            Console.WriteLine("| stage | seconds | tokens | tokens/s | peak RSS |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
            foreach (var (name, seconds, tokens, peak) in stages)
                Console.WriteLine(FormattableString.Invariant(
                    $"| {name} | {seconds:F1} | {(double.IsNaN(tokens) ? "" : tokens.ToString("F0", CultureInfo.InvariantCulture))} | {(double.IsNaN(tokens) ? "" : (tokens / seconds).ToString("F1", CultureInfo.InvariantCulture))} | {(peak > 0 ? $"{peak / 1e9:F2} GB" : "")} |"));
            Console.WriteLine();
            Console.WriteLine("Learn stage vs the learner benchmark's single-sequence step at the same tokens per micro-batch (same process):");
            Console.WriteLine();
            Console.WriteLine("| | tokens per micro-batch | tokens/s | learn stage vs single sequence |");
            Console.WriteLine("| --- | ---: | ---: | ---: |");
            foreach (var (i, rate, reused) in learnRates)
                Console.WriteLine(FormattableString.Invariant($"| iteration {i} learn stage optimizer steps ({(reused ? "learner kept" : "learner loaded")}) | {tokensPerMicro} (mean) | {rate:F1} | {rate / single:F2}× |"));
            Console.WriteLine(FormattableString.Invariant($"| single sequence of {tokensPerMicro} tokens, {Math.Min(microBatches, 4)} per AdamW step | {tokensPerMicro} | {single:F1} | 1.00× |"));
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Qwen2.5-0.5B's shapes with the vocabulary of <paramref name="bpe"/>.</summary>
    private static ModelConfig Qwen05Shapes(Aspo.Data.Tokenization.BpeTokenizer bpe) => new()
    {
        Family = ModelFamily.Qwen2, HiddenSize = 896, IntermediateSize = 4864, NumLayers = 24, NumHeads = 14, NumKvHeads = 2,
        HeadDim = 64, VocabSize = bpe.VocabSize, TieWordEmbeddings = true, RopeTheta = 1e6, MaxPositionEmbeddings = 4096,
        EosTokenIds = [bpe.TokenToId("<|im_end|>") ?? bpe.VocabSize - 1],
    };

    private static Aspo.Data.Tokenization.BpeTokenizer Qwen3Tokenizer() => Aspo.Data.Tokenization.BpeTokenizer.Load(Path.Combine(
        Aspo.Native.NativeLibraryLocator.FindRepositoryNativeDirectory(AppContext.BaseDirectory)
            ?? throw new InvalidOperationException("run tools/setup first (.native/tokenizers/qwen3)"), "tokenizers", "qwen3", "tokenizer.json"));

    /// <summary>`tools/bench/run iteration-single TOKENS [micro-batches per step, 4] [fp32|bf16]`: the single-sequence
    /// reference alone, on the same random 0.5B-shaped model (seed 1), for a learn stage measured in another run.</summary>
    public static int RunSingle(string[] args)
    {
        var tokens = int.Parse(args[1], CultureInfo.InvariantCulture);
        var perStep = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;
        var dtype = args.Length > 3 ? args[3] : "fp32";
        var config = Qwen05Shapes(Qwen3Tokenizer());
        var rate = SingleSequence(ModelInit.Random(config, seed: 1), config, tokens, perStep, dtype);
        Console.WriteLine(FormattableString.Invariant($"single sequence of {tokens} tokens, {perStep} per AdamW step, {dtype}: {rate:F1} tokens/s"));
        return 0;
    }

    private static List<RolloutRow> ReadRows(string folder)
    {
        using var reader = new ShardReader(folder);
        return [.. reader.ReadBatches().SelectMany(b => b)];
    }

    /// <summary>Tokens/s of forward + backward over one sequence of <paramref name="tokens"/> tokens, <paramref name="perStep"/> times, then AdamW.</summary>
    private static double SingleSequence(float[] parameters, ModelConfig config, int tokens, int perStep, string dtype)
    {
        using var learner = Learners.Create(config, parameters, new LearnerOptions { Precision = LearnerOptions.ParsePrecision(dtype) });
        var rng = new Random(3);
        var ids = Enumerable.Range(0, tokens).Select(_ => rng.Next(config.VocabSize)).ToArray();
        var batch = PackedSequences.Pack([(ids[..1], ids[1..])]);
        var coefficients = Enumerable.Range(0, tokens - 1).Select(_ => (float)((rng.NextDouble() - 0.5) * 1e-3)).ToArray();
        var logProbs = new float[tokens - 1];
        var entropies = new float[tokens - 1];
        var rates = new List<double>();
        for (var step = 0; step < 4; step++)
        {
            var watch = Stopwatch.StartNew();
            learner.ZeroGradients();
            for (var m = 0; m < perStep; m++)
            {
                learner.Score(batch, 1f, logProbs, entropies, forTraining: true);
                learner.Backward(coefficients, []);
            }
            learner.OptimizerUpdate(1e-9);
            if (step > 0)
                rates.Add((double)tokens * perStep / watch.Elapsed.TotalSeconds);
            Console.Error.WriteLine(FormattableString.Invariant($"single sequence step {step}: {watch.Elapsed.TotalSeconds:F1} s"));
        }
        return BenchStats.Median(rates);
    }

    /// <summary>Resets this process's peak resident set size (VmHWM) to the current one (Linux clear_refs 5).</summary>
    private static void ResetPeakResident() => File.WriteAllText("/proc/self/clear_refs", "5");
}
