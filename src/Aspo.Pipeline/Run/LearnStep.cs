using System.Diagnostics;
using System.Globalization;
using Aspo.Data;
using Aspo.Data.Shards;
using Aspo.Native.Files;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>
/// Stage learn of iteration i: every shard part of iter-i (or, in a replay, of the source run's iter-i) → policy i
/// (weights, optimizer state, prompt cursor), with the learner the configuration names.
/// </summary>
public static class LearnStep
{
    private static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"];

    /// <param name="shardsFolder">the shards to learn from (default: this run's iter-i/shards)</param>
    /// <param name="replay">the shards come from another run: π_old is recomputed by the learner, the shards' log-probs
    /// feed the rollout correction, and each part's learner-vs-rollout log-prob difference is reported first</param>
    public static void Run(RunContext run, int iteration, string? shardsFolder = null, bool replay = false)
    {
        run.RequireIteration(iteration);
        var c = run.Config;
        var previous = run.Directory.PolicyFolder(iteration - 1);
        // the learner of the previous learn stage, if this process kept it: the same bytes the checkpoint holds, so a
        // resumed run (which loads the files) continues bit-identically
        var kept = run.TakeLearner(previous, c.LearnerOptions);
        var learner = kept ?? Learners.Load(previous, c.LearnerOptions);
        var keep = false;
        try
        {
            keep = Learn(run, iteration, learner, reused: kept is not null, shardsFolder, replay);
        }
        finally
        {
            if (keep)
                run.KeepLearner(run.Directory.PolicyFolder(iteration), c.LearnerOptions, learner);
            else
                learner.Dispose();
        }
    }

    /// <summary>
    /// micro_batch auto: the largest divisor of the mini-batch whose memory plan fits both in 60 % of the machine's
    /// memory and in what is free now — the plan's parts not yet resident (activations; gradients and AdamW moments of
    /// a fresh learner) within 75 % of the available memory (headroom: the runtime's own allocations; the plan is an
    /// estimate).
    /// </summary>
    private static int AutoMicroBatch(RunContext run, int iteration, Aspo.Model.ILearner learner, List<RolloutRow> rows, bool reused)
    {
        var lengths = rows.Select(r => r.PromptTokenIds.Length + r.ResponseTokenIds.Length).ToArray();
        var fixedPart = Aspo.Model.MemoryPlan.Estimate(learner.Config, [1]);
        var resident = fixedPart.ParameterBytes + (reused ? fixedPart.GradientBytes + fixedPart.OptimizerBytes : 0);
        var available = Aspo.Native.SystemMemory.AvailableBytes();
        var budget = Math.Min((long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.6), resident + (long)(available * 0.75));
        var microBatch = Aspo.Model.MemoryPlan.LargestMicroBatch(learner.Config, lengths, run.Config.Algorithm.MiniBatch, budget);
        var plan = Aspo.Model.MemoryPlan.Estimate(learner.Config, [.. lengths.OrderDescending().Take(microBatch)]);
        run.Log.Line(FormattableString.Invariant(
            $"iteration {iteration} learn: micro_batch auto = {microBatch} sequences (memory plan {plan.TotalBytes / 1e9:F2} GB within {budget / 1e9:F2} GB: {available / 1e9:F2} GB available now)"));
        return microBatch;
    }

    /// <summary>The stage with its learner; returns whether the learner may be kept for the next iteration (its memory
    /// plan leaves room for the rollout's session next to it).</summary>
    private static bool Learn(RunContext run, int iteration, Aspo.Model.ILearner learner, bool reused, string? shardsFolder, bool replay)
    {
        var c = run.Config;
        var dir = run.Directory;
        var shards = shardsFolder ?? dir.ShardsFolder(iteration);
        var previous = dir.PolicyFolder(iteration - 1);
        var rows = new List<RolloutRow>();
        var continuations = new List<RolloutRow>();
        // SPO-tree: every node is trained (in its context); the count check is on the first level
        var tree = c.Algorithm.Advantage == Aspo.Algorithms.SpoTree.Name;
        var parts = new List<(string File, int First, int Count)>();
        var watch = Stopwatch.StartNew();
        try
        {
            using var reader = new ShardReader(shards);
            foreach (var file in reader.Files)
            {
                using var part = new ShardReader(file);
                // SPO's Monte-Carlo continuations are rows of their own: they value branch points, they are not trained on
                var partRows = part.ReadBatches().SelectMany(b => b).ToList();
                if (!tree)
                {
                    continuations.AddRange(partRows.Where(r => !r.IsSample));
                    partRows.RemoveAll(r => !r.IsSample);
                }
                parts.Add((file, rows.Count, partRows.Count));
                rows.AddRange(partRows);
            }
        }
        catch (Aspo.Data.DataFormatException e) when (!replay)
        {
            throw new Aspo.Data.DataFormatException($"{e.Message}; rerun the rollout that wrote it: aspo rollout --iteration {iteration} (with its --shard k/N if it was a slice)");
        }
        var counted = tree ? rows.Count(r => r.IsSample) : rows.Count;
        if (counted < c.SequencesPerIteration)
            throw new ConfigException($"{shards}: {rows.Count} rollout rows in {parts.Count} part(s), expected {c.SequencesPerIteration} (prompts_per_iteration × n); is a rollout shard missing?");
        if (counted > c.SequencesPerIteration)
            throw new ConfigException($"{shards}: {rows.Count} rollout rows in {parts.Count} parts, expected {c.SequencesPerIteration} (prompts_per_iteration × n): " +
                "parts of two different --shard k/N splits? remove the parts of the split not used and rerun its slices");
        var foreign = rows.FirstOrDefault(r => r.RunId != c.Run.Name);
        if (!replay && foreign is not null)
            throw new ConfigException($"{shards}: row {foreign.PromptUid}/{foreign.SampleIndex} belongs to run '{foreign.RunId}', not '{c.Run.Name}' (use `aspo replay` to learn from another run's shards)");
        var stale = rows.FirstOrDefault(r => r.PolicyVersion != iteration - 1);
        if (!replay && stale is not null)
            throw new ConfigException($"{shards}: row {stale.PromptUid}/{stale.SampleIndex} was sampled by policy version {stale.PolicyVersion}, the learner holds version {iteration - 1}");
        // the method's additions: SPO's advantages and masks (spo_tree: its nodes become the rows), later the critic's
        var method = MethodInputs.Prepare(c.Algorithm, rows, continuations);
        rows = method.Rows;
        var microBatch = c.Algorithm.MicroBatch > 0 ? c.Algorithm.MicroBatch : AutoMicroBatch(run, iteration, learner, rows, reused);
        var algorithm = c.Algorithm with { MicroBatch = microBatch };
        // the learner's log-probs before any update, once: the rollout-vs-learner report, and π_old in replay
        // (with a critic, the same passes give V_old from the value head saved with the previous policy)
        var recomputeClock = Stopwatch.StartNew();
        var valueHead = c.Algorithm.Advantage == Aspo.Algorithms.Gae.Name
            ? Aspo.Model.ValueHead.LoadOrCreate(previous, learner.Config.HiddenSize, c.LearnerOptions.Optimizer) : null;
        var (recomputed, oldValues) = LearnStage.Recompute(learner, rows, microBatch, valueHead);
        var recomputeSeconds = recomputeClock.Elapsed.TotalSeconds;
        if (valueHead is not null)
            method.AddCritic(c.Algorithm, valueHead, oldValues!);
        var (mean, max, over) = LearnStage.Mismatch(recomputed, rows);
        if (replay)
        {
            foreach (var (file, start, count) in parts)
            {
                var (m, x, f) = LearnStage.Mismatch(recomputed[start..(start + count)], rows.GetRange(start, count));
                run.Log.Line(FormattableString.Invariant($"iteration {iteration} replay: {Path.GetFileName(file)} (policy version {rows.ElementAtOrDefault(start)?.PolicyVersion}) learner vs rollout |Δ logπ| mean {m:E2}, max {x:E2}, {f:P2} over 1e-3"));
                run.Metrics.Append(MetricsLog.Shard, iteration, 0, new Dictionary<string, double>
                {
                    ["replay/logprob_abs_diff_mean"] = m, ["replay/logprob_abs_diff_max"] = x, ["replay/logprob_frac_over_1e-3"] = f,
                    ["replay/part"] = int.Parse(Path.GetFileNameWithoutExtension(file)["part-".Length..], CultureInfo.InvariantCulture),
                });
            }
        }
        // the reference of the KL term (verl's use_kl_loss; by default the run's starting checkpoint, frozen)
        // or dpo's: the policy ref_every names (dpo: the one that sampled, scored above, by default)
        IReadOnlyList<float[]>? reference = null;
        var referencePolicy = c.Algorithm.UsesReference ? c.Algorithm.ReferencePolicy(iteration) : -1;
        if (referencePolicy == iteration - 1)
            reference = recomputed;
        else if (referencePolicy >= 0)
        {
            using var referenceLearner = Learners.Load(dir.PolicyFolder(referencePolicy), c.LearnerOptions);
            reference = LearnStage.Recompute(referenceLearner, rows, microBatch);
        }
        var stepsPerIteration = c.Algorithm.PpoEpochs * (c.SequencesPerIteration / c.Algorithm.MiniBatch);
        var learnClock = Stopwatch.StartNew();
        IReadOnlyList<Dictionary<string, double>> steps;
        try
        {
            steps = LearnStage.Run(learner, rows, new LearnSettings
            {
                Algorithm = algorithm, Optimizer = c.Optimizer, Seed = c.Run.Seed, Iteration = iteration, TotalSteps = c.Run.Iterations * stepsPerIteration,
                LearnerOldLogProbs = replay ? recomputed : null, ReferenceLogProbs = reference, Critic = method.Critic,
                TokenAdvantages = method.TokenAdvantages, TokenMask = method.TokenMask,
            }, (k, n, m) =>
            {
                var perStep = learnClock.Elapsed.TotalSeconds / k;
                run.Log.Progress(FormattableString.Invariant(
                    $"iteration {iteration} learn step {k}/{n}: loss {m.GetValueOrDefault("actor/pg_loss"):F4}, entropy {m.GetValueOrDefault("actor/entropy"):F3}, clipfrac {m.GetValueOrDefault("actor/pg_clipfrac"):F3}, grad norm {m.GetValueOrDefault("actor/grad_norm"):F3}, {perStep:F1} s/step, ETA {perStep * (n - k):F0} s"),
                    everyCall: true);
            });
        }
        catch (Aspo.Model.TrainingDivergedException e)
        {
            run.Log.EndProgress();
            throw new Aspo.Model.TrainingDivergedException(FormattableString.Invariant(
                $"iteration {iteration} learn, {e.Message}; the usual causes are optimizer.lr ({c.Optimizer.LearningRate}) too high or optimizer.grad_clip ({c.Optimizer.GradClip}; 0 = off) too loose. Nothing was written: policy {iteration - 1} stays the last one"));
        }
        run.Log.EndProgress();
        var stepSeconds = learnClock.Elapsed.TotalSeconds;
        var seconds = watch.Elapsed.TotalSeconds;
        var first = learner.OptimizerStep - steps.Count;
        for (var s = 0; s < steps.Count; s++)
            run.Metrics.Append(MetricsLog.Step, iteration, first + s + 1, steps[s]);
        AtomicFile.ReplaceFolder(dir.PolicyFolder(iteration), folder =>
        {
            learner.SaveCheckpoint(folder);
            CopyTokenizer(previous, folder);
            learner.SaveOptimizer(Path.Combine(folder, Learners.OptimizerFile));
            valueHead?.Save(folder);
            var cursorFile = Path.Combine(shards, "rollout.json");
            AtomicFile.WriteAllText(Path.Combine(folder, "trainer_state.json"), File.Exists(cursorFile) ? File.ReadAllText(cursorFile) : new SamplerState(0, 0).ToJson());
        });
        var data = steps.SelectMany(d => d).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Average(kv => kv.Value), StringComparer.Ordinal);
        foreach (var (name, value) in method.Metrics)
            data[name] = value;
        data["timing_s/update_actor"] = seconds;
        data["timing_s/recompute"] = recomputeSeconds;
        data["timing_s/learn_steps"] = stepSeconds;
        data["learn/micro_batch"] = microBatch;
        data["learn/learner_reused"] = reused ? 1 : 0;
        // verl's step timing and throughput: generation (the slowest rollout slice) + update, all tokens of the iteration
        var gen = RolloutSeconds(run, iteration);
        data["timing_s/step"] = gen + seconds;
        data["perf/total_num_tokens"] = rows.Sum(r => (double)(r.PromptTokenIds.Length + r.ResponseTokenIds.Length));
        data["perf/throughput"] = data["perf/total_num_tokens"] / Math.Max(gen + seconds, 1e-9);
        data["perf/learner_tokens_per_s"] = steps.Sum(d => d["actor/tokens"]) / Math.Max(seconds, 1e-9);
        data["rollout_learner/logprob_abs_diff_mean"] = mean;
        data["rollout_learner/logprob_abs_diff_max"] = max;
        data["rollout_learner/logprob_frac_over_1e-3"] = over;
        run.Metrics.Append(MetricsLog.Iteration, iteration, learner.OptimizerStep, data);
        var longest = rows.Select(r => r.PromptTokenIds.Length + r.ResponseTokenIds.Length).OrderDescending().Take(microBatch).ToArray();
        var plan = Aspo.Model.MemoryPlan.Estimate(learner.Config, longest);
        var keepLearner = plan.TotalBytes + 2 * plan.ParameterBytes <= (long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.8);
        run.Log.Line(FormattableString.Invariant(
            $"iteration {iteration} learn: {steps.Count} steps, loss {data.GetValueOrDefault("actor/pg_loss"):F4}, entropy {data.GetValueOrDefault("actor/entropy"):F3}, clipfrac {data.GetValueOrDefault("actor/pg_clipfrac"):F3}, rollout-vs-learner |Δ logπ| mean {mean:E1} max {max:E1}"));
        return keepLearner;
    }

    public static void CopyTokenizer(string from, string to)
    {
        foreach (var f in TokenizerFiles)
        {
            if (File.Exists(Path.Combine(from, f)))
                File.Copy(Path.Combine(from, f), Path.Combine(to, f), overwrite: true);
        }
    }

    /// <summary>The generation time of iteration i from its rollout metric rows (the slowest slice; 0 if none).</summary>
    private static double RolloutSeconds(RunContext run, int iteration) =>
        !File.Exists(run.Directory.MetricsPath) ? 0
        : run.Metrics.Read().Where(r => r.Kind == MetricsLog.Rollout && r.Iteration == iteration && r.Data["timing_s/gen"] is not null)
            .Select(r => r.Data["timing_s/gen"]!.GetValue<double>()).DefaultIfEmpty(0).Max();
}
