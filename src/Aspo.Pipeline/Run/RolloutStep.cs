using System.Diagnostics;
using Aspo.Data;
using Aspo.Data.Shards;
using Aspo.Native.Files;
using Aspo.Onnx;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>
/// Stage rollout of iteration i, or its slice k of N (prompts k, k + N, …): the exported policy samples n answers per
/// prompt, rewards attached, into iter-i/shards/part-k.parquet. Slices are independent processes (one machine each);
/// together they write exactly the rows of one unsliced rollout, since every sample's seed depends only on its prompt
/// and index.
/// </summary>
public static class RolloutStep
{
    public static void Run(RunContext run, int iteration, int shard = 0, int shards = 1)
    {
        run.RequireIteration(iteration);
        if (shards < 1 || shard < 0 || shard >= shards)
            throw new ArgumentException($"--shard {shard}/{shards}: expected k/N with 0 ≤ k < N");
        var c = run.Config;
        var dir = run.Directory;
        var policyState = dir.TrainerStatePath(iteration - 1);
        if (!File.Exists(policyState))
            throw new ConfigException($"{dir.PolicyFolder(iteration - 1)}: no policy of iteration {iteration - 1} yet (run its learn stage first)");
        var cursor = SamplerState.FromJson(File.ReadAllText(policyState));
        var sampler = new PromptSampler(run.Prompts.Count, c.Run.Seed, cursor);
        var all = sampler.Next(c.Rollout.PromptsPerIteration).Select(i => run.Prompts[i]).ToArray();
        var batch = all.Where((_, k) => k % shards == shard).ToArray();
        var onnx = dir.OnnxFolder(iteration);
        if (!File.Exists(Path.Combine(onnx, DecoderExporter.GenAiConfigFile)))
            throw new ConfigException($"{onnx}: iteration {iteration} is not exported yet (run its export stage first)");
        using var model = OnnxDecoder.Open(onnx, new OnnxSessionSettings { Threads = c.Run.Threads, Device = c.Rollout.Device });
        var tokenizer = model.LoadTokenizer();
        var stage = new RolloutStage(model, tokenizer, run.Template(onnx), run.Reward);
        var watch = Stopwatch.StartNew();
        stage.OnProgress = (finished, count, tokens) => run.Log.Progress(FormattableString.Invariant(
            $"iteration {iteration} rollout: {finished}/{count} samples, {tokens} tokens, {tokens / Math.Max(watch.Elapsed.TotalSeconds, 1e-9):F0} tokens/s"), everyCall: false);
        var settings = new RolloutSettings
        {
            RunId = c.Run.Name, Iteration = iteration, PolicyVersion = iteration - 1, MasterSeed = c.Run.Seed,
            SamplesPerPrompt = c.Rollout.SamplesPerPrompt, BatchSize = c.Rollout.BatchSize, SamplingHead = c.Rollout.UsesSamplingHead,
            Sampling = new SamplingParams
            {
                Temperature = (float)c.Rollout.Temperature, TopP = (float)c.Rollout.TopP, TopK = c.Rollout.TopK, MaxNewTokens = c.Rollout.MaxNewTokens, RecordEntropy = true,
            },
        };
        var tree = c.Algorithm.Advantage == Aspo.Algorithms.SpoTree.Name;
        var rows = tree ? stage.RunTree(batch, settings, c.Algorithm.SpoTreeBranching, c.Algorithm.SpoTreeSegment) : stage.Run(batch, settings);
        var samplesSeconds = watch.Elapsed.TotalSeconds;
        // SPO-chain: Monte-Carlo continuations from each sample's branch points, written as rows of their own
        var spo = new Dictionary<string, double>(StringComparer.Ordinal);
        if (c.Algorithm.Advantage == Aspo.Algorithms.SpoChain.Name)
        {
            var a = c.Algorithm;
            var points = rows.ToDictionary(r => (r.PromptUid, r.SampleIndex), r => Aspo.Algorithms.SpoChain.BranchPoints(r.OldLogprobs, a.SpoRho, a.SpoInterval));
            var continuations = stage.RunContinuations(batch, rows, settings, r => points[(r.PromptUid, r.SampleIndex)], a.SpoContinuations);
            double sampleTokens = rows.Sum(r => r.ResponseTokenIds.Length), continuationTokens = continuations.Sum(r => r.ResponseTokenIds.Length);
            spo["spo/branch_points_per_sample"] = points.Count > 0 ? points.Values.Average(p => p.Length) : 0;
            spo["spo/continuations"] = continuations.Count;
            spo["spo/continuation_tokens"] = continuationTokens;
            spo["spo/sampled_tokens_per_sample_token"] = (sampleTokens + continuationTokens) / Math.Max(sampleTokens, 1);
            spo["timing_s/spo_continuations"] = watch.Elapsed.TotalSeconds - samplesSeconds;
            rows.AddRange(continuations);
        }
        var seconds = watch.Elapsed.TotalSeconds;
        run.Log.EndProgress();
        // a shard row's log-probs are π_old for the learner: never write a non-finite one
        if (rows.FirstOrDefault(r => Aspo.Model.Finite.FirstNonFinite(r.OldLogprobs) is not null) is { } bad)
            throw new InvalidDataException($"iteration {iteration} rollout: sample {bad.PromptUid}/{bad.SampleIndex} has a non-finite log-prob at response token " +
                $"{Aspo.Model.Finite.FirstNonFinite(bad.OldLogprobs)} ({onnx} produced NaN or ∞ logits); no shard was written");
        // each slice writes its own part atomically; the prompt cursor after the iteration is the same for every slice
        var folder = dir.ShardsFolder(iteration);
        Directory.CreateDirectory(folder);
        using (var writer = new ShardWriter(folder))
        {
            writer.Append(rows);
            writer.WritePart(shard); // a full disk: one IOException naming the part, nothing kept, the stage can rerun
        }
        AtomicFile.WriteAllText(dir.RolloutCursorPath(iteration), sampler.State.ToJson());
        if (rows.Count == 0)
            return;
        // scores and lengths of whole responses: the samples, or the tree's leaves with their ancestors' text
        var whole = tree ? TreeLeaves(rows) : [.. rows.Where(r => r.IsSample)];
        var data = Metrics(whole, seconds);
        if (tree)
        {
            data["spo/tree_nodes"] = rows.Count;
            data["spo/sampled_tokens_per_leaf_token"] = rows.Sum(r => (double)r.ResponseTokenIds.Length) / Math.Max(1, whole.Sum(r => (double)r.ResponseTokenIds.Length));
        }
        foreach (var (name, value) in spo)
            data[name] = value;
        // every token this stage generated: samples, SPO's continuations or tree nodes (the methods' sampling cost)
        data["rollout/sampled_tokens"] = rows.Sum(r => (double)r.ResponseTokenIds.Length);
        if (shards > 1)
            data["rollout/shard"] = shard;
        run.Metrics.Append(MetricsLog.Rollout, iteration, 0, data);
        run.Log.Line(FormattableString.Invariant(
            $"iteration {iteration} rollout: {rows.Count(r => r.IsSample)} samples{(tree ? $" ({rows.Count} tree nodes)" : "")}{(spo.Count > 0 ? $" + {spo["spo/continuations"]} continuations" : "")}, score {data["critic/score/mean"]:F3}, length {data["response_length/mean"]:F1}, {data["perf/rollout_tokens_per_s"]:F0} tokens/s"));
    }

    /// <summary>The leaves of SPO trees (nodes no other node branched from), each with its whole response: its
    /// ancestors' segments then its own (parents precede children in sample order).</summary>
    private static List<RolloutRow> TreeLeaves(IReadOnlyList<RolloutRow> nodes)
    {
        var full = new Dictionary<(string, int), RolloutRow>();
        foreach (var r in nodes.OrderBy(r => r.PromptUid, StringComparer.Ordinal).ThenBy(r => r.SampleIndex))
            full[(r.PromptUid, r.SampleIndex)] = r.IsSample ? r : full[(r.PromptUid, r.ParentSample)] is var p
                ? r with { ResponseTokenIds = [.. p.ResponseTokenIds, .. r.ResponseTokenIds], ResponseText = p.ResponseText + r.ResponseText } : r;
        var parents = nodes.Where(r => !r.IsSample).Select(r => (r.PromptUid, r.ParentSample)).ToHashSet();
        return [.. full.Where(kv => !parents.Contains(kv.Key)).Select(kv => kv.Value)];
    }

    /// <summary>verl's rollout metrics: score, response length, clip ratio, prompt length, timing, repetition, reward components.</summary>
    private static Dictionary<string, double> Metrics(IReadOnlyList<RolloutRow> rows, double seconds)
    {
        var lengths = rows.Select(r => (double)r.ResponseTokenIds.Length).ToArray();
        var scores = rows.Select(r => r.Reward).ToArray();
        var data = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["critic/score/mean"] = scores.Average(), ["critic/score/max"] = scores.Max(), ["critic/score/min"] = scores.Min(),
            ["response_length/mean"] = lengths.Average(), ["response_length/max"] = lengths.Max(), ["response_length/min"] = lengths.Min(),
            ["response_length/clip_ratio"] = rows.Count(r => r.FinishReason == "length") / (double)rows.Count,
            ["prompt_length/mean"] = rows.Average(r => (double)r.PromptTokenIds.Length),
            ["timing_s/gen"] = seconds, ["perf/rollout_tokens_per_s"] = lengths.Sum() / Math.Max(seconds, 1e-9),
            [Aspo.Algorithms.MetricNames.RepetitionRatio] = rows.Average(r => Aspo.Algorithms.Diagnostics.RepetitionRatio(r.ResponseText)),
        };
        foreach (var name in rows.SelectMany(r => r.RewardComponents.Keys).Distinct())
            data[$"reward/{name}/mean"] = rows.Average(r => r.RewardComponents.GetValueOrDefault(name));
        return data;
    }
}
