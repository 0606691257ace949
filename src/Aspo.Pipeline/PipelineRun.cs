using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Data;
using Aspo.Data.Shards;
using Aspo.Model;
using Aspo.Native.Blas;
using Aspo.Native.Ort;
using Aspo.Onnx;
using Aspo.Pipeline.Config;
using Aspo.Rewards;

namespace Aspo.Pipeline;

/// <summary>The last completed (iteration, stage) of a run; iteration 0 / "init" = only the starting policy exists.</summary>
public sealed record RunState(int Iteration, string Stage)
{
    public static readonly IReadOnlyList<string> Stages = ["export", "rollout", "learn", "eval"];
}

/// <summary>
/// A run directory and the loop over it:
/// <code>
/// runs/&lt;name&gt;/
///   pipeline.resolved.yaml   the config in effect (every setting, after overrides)
///   state.json               last completed (iteration, stage), rewritten atomically
///   metrics.jsonl            {"kind": "step"|"iteration"|"eval", "iteration", "step", "data": {verl names…}} per line
///   iter-0000/policy/        the starting checkpoint (config.json, model.safetensors, tokenizer files)
///   iter-000i/onnx/          policy i−1 exported (model.onnx + .data, genai_config.json, tokenizer)
///   iter-000i/shards/        part-00000.parquet: the rollout of iteration i (+ rollout.json: the prompt cursor after it)
///   iter-000i/policy/        policy i: weights, optimizer.safetensors, trainer_state.json (prompt cursor, optimizer step)
/// </code>
/// Every stage writes into a temporary folder and renames it into place, then records itself in state.json, so a run
/// killed at any moment resumes at the first stage not recorded, and nothing under a final name is ever partial.
/// </summary>
public sealed class PipelineRun
{
    private static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"];
    private readonly PipelineConfig _config;
    private readonly TextWriter _log;
    private readonly Action<RewardRegistry>? _registerRewards;

    /// <param name="registerRewards">Adds graders for more data sources (for programs that embed the pipeline).</param>
    public PipelineRun(PipelineConfig config, TextWriter log, Action<RewardRegistry>? registerRewards = null)
    {
        _config = config;
        _log = log;
        _registerRewards = registerRewards;
        Directory = config.RunDirectory;
        _live = ReferenceEquals(log, Console.Out) && !Console.IsOutputRedirected;
    }

    // progress: on a terminal one line rewritten in place; otherwise plain lines (every learn step, rollout every 10 s)
    private readonly bool _live;
    private int _liveLength;
    private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();

    private void Progress(string text, bool everyCall)
    {
        if (_live)
        {
            if (_sinceProgress.ElapsedMilliseconds < 250 && !everyCall)
                return;
            _log.Write("\r" + text.PadRight(_liveLength));
            _liveLength = text.Length;
        }
        else if (everyCall || _sinceProgress.ElapsedMilliseconds >= 10_000)
            _log.WriteLine(text);
        else
            return;
        _sinceProgress.Restart();
    }

    private void EndProgress()
    {
        if (_live && _liveLength > 0)
            _log.Write("\r" + new string(' ', _liveLength) + "\r");
        _liveLength = 0;
    }

    public string Directory { get; }
    public string StatePath => Path.Combine(Directory, "state.json");
    public string MetricsPath => Path.Combine(Directory, "metrics.jsonl");
    public string IterationFolder(int i) => Path.Combine(Directory, $"iter-{i:D4}");
    public string PolicyFolder(int i) => Path.Combine(IterationFolder(i), "policy");

    public RunState ReadState()
    {
        if (!File.Exists(StatePath))
            return new RunState(0, "init");
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(StatePath))!.AsObject();
            var state = new RunState(o["iteration"]!.GetValue<int>(), o["stage"]!.GetValue<string>());
            if (state.Iteration < 0 || !(RunState.Stages.Contains(state.Stage) || state.Stage == "init"))
                throw new FormatException($"iteration {state.Iteration}, stage '{state.Stage}'");
            return state;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NullReferenceException)
        {
            throw new ConfigException($"{StatePath}: not a run state ({e.Message}); expected {{\"iteration\": N, \"stage\": \"export|rollout|learn|eval\"}}");
        }
    }

    private void WriteState(RunState state) =>
        AtomicWrite(StatePath, new JsonObject { ["iteration"] = state.Iteration, ["stage"] = state.Stage }.ToJsonString());

    // temporary names carry the process id: rollout slices of one iteration run as parallel processes on one folder
    private static void AtomicWrite(string path, string text)
    {
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Replaces <paramref name="final"/> by what <paramref name="write"/> puts into a fresh temporary folder.</summary>
    private static void AtomicFolder(string final, Action<string> write)
    {
        var temp = $"{final}.{Environment.ProcessId}.tmp";
        if (System.IO.Directory.Exists(temp))
            System.IO.Directory.Delete(temp, recursive: true);
        System.IO.Directory.CreateDirectory(temp);
        write(temp);
        if (System.IO.Directory.Exists(final))
            System.IO.Directory.Delete(final, recursive: true);
        System.IO.Directory.Move(temp, final);
    }

    /// <summary>
    /// Before a stage (re)runs: drops the metric rows an interrupted earlier attempt of it may have appended, so a
    /// resumed run's metrics.jsonl holds each row once. Rewritten atomically.
    /// </summary>
    private void DropMetrics(int iteration, params string[] kinds)
    {
        if (!File.Exists(MetricsPath))
            return;
        var lines = File.ReadAllLines(MetricsPath);
        var kept = lines.Where(line =>
        {
            try
            {
                var o = JsonNode.Parse(line)!.AsObject();
                return !(o["iteration"]!.GetValue<int>() == iteration && kinds.Contains(o["kind"]!.GetValue<string>()));
            }
            catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException)
            {
                return false; // a torn last line of a killed process
            }
        }).ToArray();
        if (kept.Length != lines.Length)
            AtomicWrite(MetricsPath, string.Concat(kept.Select(l => l + "\n")));
    }

    private TensorBoardWriter? _tensorBoard;

    /// <summary>TensorBoard event files of this run (one per process), next to metrics.jsonl.</summary>
    public string TensorBoardFolder => Path.Combine(Directory, "tensorboard");

    /// <summary>
    /// One metrics row to metrics.jsonl and the same scalars to TensorBoard: per-step rows under "step/…" tags on the
    /// optimizer-step axis, everything else on the iteration axis.
    /// </summary>
    private void AppendMetrics(string kind, int iteration, long step, IReadOnlyDictionary<string, double> data) =>
        AppendMetrics(new JsonObject
        {
            ["kind"] = kind, ["iteration"] = iteration, ["step"] = step,
            ["data"] = new JsonObject(data.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        });

    private void AppendMetrics(JsonObject row)
    {
        EvalReport.AppendMetrics(MetricsPath, [row]);
        var perStep = row["kind"]!.GetValue<string>() == "step";
        var axis = perStep ? row["step"]!.GetValue<long>() : row["iteration"]!.GetValue<int>();
        _tensorBoard ??= new TensorBoardWriter(TensorBoardFolder);
        _tensorBoard.WriteScalars(axis, row["data"]!.AsObject().Select(kv => ((perStep ? "step/" : "") + kv.Key, kv.Value!.GetValue<double>())));
    }

    private IReadOnlyList<PromptRecord> _prompts = [];
    private IRewardFunction? _reward;
    private IReadOnlyList<EvalSuite> _suites = [];

    /// <summary>
    /// Reads and checks every input (model folder, training prompts, rewards of their data sources, eval suites) before
    /// the run directory is touched — a bad config writes nothing — then creates or reopens the run directory (a
    /// different configuration than the one it was started with is refused) and writes the starting policy.
    /// </summary>
    public RunState Open()
    {
        var c = _config;
        var modelFolder = c.Resolve(c.Model.Path);
        foreach (var required in new[] { Checkpoint.ConfigFile, "tokenizer.json" })
        {
            if (!File.Exists(Path.Combine(modelFolder, required)))
                throw new ConfigException($"{c.SourceFile}: model.path {modelFolder} has no {required} (expected an HF model folder: config.json, model.safetensors, tokenizer.json)");
        }
        var modelConfig = Aspo.Model.ModelConfig.Load(Path.Combine(modelFolder, Checkpoint.ConfigFile));
        var tokenizerVocab = Aspo.Data.Tokenization.BpeTokenizer.Load(Path.Combine(modelFolder, "tokenizer.json")).VocabSize;
        if (tokenizerVocab > modelConfig.VocabSize)
            throw new ConfigException($"{modelFolder}: tokenizer.json has {tokenizerVocab} tokens but config.json's vocab_size is {modelConfig.VocabSize}: the tokenizer does not belong to this model");
        _prompts = PromptDataset.Load(c.Resolve(c.Data.Train), new DatasetMapping
        {
            PromptColumn = c.Data.PromptColumn, AnswerColumn = c.Data.AnswerColumn, DefaultDataSource = c.Data.DataSource,
        });
        if (_prompts.Count == 0)
            throw new ConfigException($"{c.Resolve(c.Data.Train)}: data.train has no rows");
        var registry = RewardRegistry.CreateDefault(c.Data.RequireThinkClose);
        _registerRewards?.Invoke(registry);
        foreach (var source in _prompts.Select(p => p.DataSource).Distinct())
            registry.Resolve(source);
        _reward = c.Reward.IsIdentity ? registry : new ShapedReward(registry, c.Reward);
        _suites = [.. c.Eval.Suites.Select(s => EvalSuite.Load(c.Resolve(s)))];

        System.IO.Directory.CreateDirectory(Directory);
        var resolved = Path.Combine(Directory, "pipeline.resolved.yaml");
        var yaml = c.ToYaml();
        // a run may be extended (more iterations) and resumed with another learner; anything else must match
        if (File.Exists(resolved) && ResolvedConfig.Differences(File.ReadAllText(resolved), yaml, ResolvedConfig.MayChangeOnResume) is { Count: > 0 } differences)
            throw new ConfigException($"{Directory} was started with another configuration ({resolved}): " +
                string.Join("; ", differences.Select(d => $"{d.Key} was {d.Old ?? "(absent)"}, now {d.New ?? "(absent)"}")) +
                "; resume it with that configuration or choose another run.output");
        AtomicWrite(resolved, yaml);
        var state = ReadState();
        if (state.Stage == "init" && !System.IO.Directory.Exists(PolicyFolder(0)))
            InitializePolicy();
        return state;
    }

    /// <summary>Runs (or resumes) the loop to the configured number of iterations.</summary>
    public RunState Execute()
    {
        var c = _config;
        var state = Open();
        RemoveLeftovers();
        _log.WriteLine(state.Stage == "init"
            ? $"run {c.Run.Name}: {Directory}, {c.Run.Iterations} iterations of {c.Rollout.PromptsPerIteration} prompts × {c.Rollout.SamplesPerPrompt} samples, loss {c.Algorithm.Loss}"
            : $"run {c.Run.Name}: resuming {Directory} after iteration {state.Iteration}, stage {state.Stage}");

        // the starting policy is evaluated first: the baseline every later evaluation is compared with
        if (state.Stage == "init" && _suites.Count > 0)
        {
            DropMetrics(0, "eval");
            Evaluate(0);
            state = new RunState(0, "eval");
            WriteState(state);
        }
        while (NextStage(state) is var next && next.Iteration <= c.Run.Iterations)
        {
            var watch = Stopwatch.StartNew();
            DropMetrics(next.Iteration, next.Stage switch
            {
                "rollout" => ["rollout"],
                "learn" => ["step", "iteration", "shard"],
                "eval" => ["eval"],
                _ => [],
            });
            switch (next.Stage)
            {
                case "export":
                    Export(next.Iteration);
                    break;
                case "rollout":
                    Rollout(next.Iteration);
                    break;
                case "learn":
                    Learn(next.Iteration);
                    break;
                default: // eval every k iterations and after the last
                    if (_suites.Count > 0 && (c.Eval.Every > 0 && next.Iteration % c.Eval.Every == 0 || next.Iteration == c.Run.Iterations))
                        Evaluate(next.Iteration);
                    break;
            }
            _log.WriteLine(FormattableString.Invariant($"iteration {next.Iteration} {next.Stage}: done in {watch.Elapsed.TotalSeconds:F1} s"));
            state = next;
            WriteState(state);
        }
        _tensorBoard?.Dispose();
        _tensorBoard = null;
        return state;
    }

    /// <summary>
    /// Learns again from the shards of another run (<paramref name="sourceRun"/>), with this config's algorithm and
    /// optimizer, starting from the source's starting policy: an ablation on identical data (ASPO vs GRPO vs no-IS).
    /// Iteration i learns from the source's iter-i shards; the run resumes like any other.
    /// </summary>
    public RunState Replay(string sourceRun)
    {
        var c = _config;
        var source = Path.GetFullPath(sourceRun);
        var start = Path.Combine(source, "iter-0000", "policy");
        if (!System.IO.Directory.Exists(start))
            throw new ConfigException($"{source}: not a run directory (no iter-0000/policy)");
        if (Path.GetFullPath(Directory) == source)
            throw new ConfigException($"{source}: a replay writes a new run; give it another run.output");
        var available = Enumerable.Range(1, c.Run.Iterations).TakeWhile(i => System.IO.Directory.Exists(Path.Combine(source, $"iter-{i:D4}", "shards"))).Count();
        if (available == 0)
            throw new ConfigException($"{source}: has no shards (iter-0001/shards)");
        System.IO.Directory.CreateDirectory(Directory);
        AtomicWrite(Path.Combine(Directory, "pipeline.resolved.yaml"), c.ToYaml());
        AtomicWrite(Path.Combine(Directory, "replay.json"), new JsonObject { ["source"] = source, ["iterations"] = available }.ToJsonString());
        _reward ??= new RewardRegistry(); // a replay grades nothing: the rewards are in the shards
        if (!System.IO.Directory.Exists(PolicyFolder(0)))
        {
            AtomicFolder(PolicyFolder(0), folder =>
            {
                foreach (var f in System.IO.Directory.GetFiles(start).Where(f => Path.GetFileName(f) != "optimizer.safetensors"))
                    File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
            });
        }
        _log.WriteLine($"replay of {source}: {available} iterations, loss {c.Algorithm.Loss}, rollout correction {c.Algorithm.RolloutCorrection.Level.ToString().ToLowerInvariant()}, into {Directory}");
        var state = ReadState();
        for (var i = Math.Max(1, state.Iteration + (state.Stage == "learn" ? 1 : 0)); i <= available; i++)
        {
            DropMetrics(i, "step", "iteration", "shard");
            Learn(i, Path.Combine(source, $"iter-{i:D4}", "shards"), replay: true);
            state = new RunState(i, "learn");
            WriteState(state);
        }
        _tensorBoard?.Dispose();
        _tensorBoard = null;
        return state;
    }

    private void RequireIteration(int iteration)
    {
        if (iteration < 1 || iteration > _config.Run.Iterations)
            throw new ArgumentException($"iteration {iteration} is outside the run's 1..{_config.Run.Iterations}");
        if (_reward is null)
            throw new InvalidOperationException("PipelineRun.Open() must run before a stage");
    }

    /// <summary>Records a stage finished outside the loop (the stage commands) when it is later than the recorded state.</summary>
    public void RecordStage(RunState done)
    {
        var current = ReadState();
        static int Order(RunState s) => s.Iteration * 10 + (s.Stage == "init" ? -1 : RunState.Stages.ToList().IndexOf(s.Stage));
        if (Order(done) > Order(current))
            WriteState(done);
    }

    /// <summary>Deletes temporary files and folders of killed processes (the loop owns its run directory; the stage
    /// commands never call this, since parallel rollout slices may be writing theirs).</summary>
    private void RemoveLeftovers()
    {
        foreach (var entry in System.IO.Directory.EnumerateFileSystemEntries(Directory, "*.tmp*", SearchOption.AllDirectories).OrderByDescending(e => e.Length).ToList())
        {
            var name = Path.GetFileName(entry);
            if (!(name.EndsWith(".tmp", StringComparison.Ordinal) || name.Contains(".tmp-", StringComparison.Ordinal)))
                continue;
            if (System.IO.Directory.Exists(entry))
                System.IO.Directory.Delete(entry, recursive: true);
            else if (File.Exists(entry))
                File.Delete(entry);
        }
    }

    private static RunState NextStage(RunState s) => s.Stage switch
    {
        "init" => new RunState(1, "export"),
        "export" => s with { Stage = "rollout" },
        "rollout" => s with { Stage = "learn" },
        "learn" => s with { Stage = "eval" },
        _ => new RunState(s.Iteration + 1, "export"),
    };

    private void InitializePolicy()
    {
        var source = _config.Resolve(_config.Model.Path);
        var (config, parameters) = Checkpoint.Load(source);
        AtomicFolder(PolicyFolder(0), folder =>
        {
            Checkpoint.Save(folder, config, parameters);
            CopyTokenizer(source, folder);
            AtomicWrite(Path.Combine(folder, "trainer_state.json"), new JsonObject { ["epoch"] = 0, ["position"] = 0 }.ToJsonString());
        });
        WriteState(new RunState(0, "init"));
    }

    private static void CopyTokenizer(string from, string to)
    {
        foreach (var f in TokenizerFiles)
        {
            if (File.Exists(Path.Combine(from, f)))
                File.Copy(Path.Combine(from, f), Path.Combine(to, f), overwrite: true);
        }
    }

    /// <summary>Stage export of iteration i: policy i−1 → iter-i/onnx.</summary>
    public void Export(int iteration)
    {
        RequireIteration(iteration);
        var policy = PolicyFolder(iteration - 1);
        var (config, parameters) = Checkpoint.Load(policy);
        System.IO.Directory.CreateDirectory(IterationFolder(iteration));
        AtomicFolder(Path.Combine(IterationFolder(iteration), "onnx"), folder =>
            DecoderExporter.Export(config, parameters, folder, policy, new ExportOptions { Int4 = _config.Rollout.Int4 }));
    }

    private ChatTemplate Template(string folder) =>
        _config.Model.ChatTemplate is { } name ? ChatTemplate.ByName(name) : ChatTemplate.FromTokenizerConfig(folder);

    /// <summary>
    /// Stage rollout of iteration i, or its slice <paramref name="shard"/> of <paramref name="shards"/> (prompts
    /// shard, shard + N, …): the exported policy samples n answers per prompt, rewards attached, into
    /// iter-i/shards/part-{shard}.parquet. Slices are independent processes (one machine each); together they write
    /// exactly the rows of one unsharded rollout, since every sample's seed depends only on its prompt and index.
    /// </summary>
    public void Rollout(int iteration, int shard = 0, int shards = 1)
    {
        RequireIteration(iteration);
        if (shards < 1 || shard < 0 || shard >= shards)
            throw new ArgumentException($"--shard {shard}/{shards}: expected i/N with 0 ≤ i < N");
        var c = _config;
        var prompts = _prompts;
        var reward = _reward ?? throw new InvalidOperationException("Open() first");
        var policyState = Path.Combine(PolicyFolder(iteration - 1), "trainer_state.json");
        if (!File.Exists(policyState))
            throw new ConfigException($"{PolicyFolder(iteration - 1)}: no policy of iteration {iteration - 1} yet (run its learn stage first)");
        var cursor = SamplerState.FromJson(File.ReadAllText(policyState));
        var sampler = new PromptSampler(prompts.Count, c.Run.Seed, cursor);
        var all = sampler.Next(c.Rollout.PromptsPerIteration).Select(i => prompts[i]).ToArray();
        var batch = all.Where((_, k) => k % shards == shard).ToArray();
        var onnx = Path.Combine(IterationFolder(iteration), "onnx");
        if (!File.Exists(Path.Combine(onnx, DecoderExporter.GenAiConfigFile)))
            throw new ConfigException($"{onnx}: iteration {iteration} is not exported yet (run its export stage first)");
        using var env = new OrtEnvironment();
        using var model = OnnxDecoder.Open(env, onnx, c.Run.Threads);
        var tokenizer = model.LoadTokenizer();
        var stage = new RolloutStage(model, tokenizer, Template(onnx), reward);
        var watch = Stopwatch.StartNew();
        stage.OnProgress = (finished, all, tokens) => Progress(FormattableString.Invariant(
            $"iteration {iteration} rollout: {finished}/{all} samples, {tokens} tokens, {tokens / Math.Max(watch.Elapsed.TotalSeconds, 1e-9):F0} tokens/s"), everyCall: false);
        var rows = stage.Run(batch, new RolloutSettings
        {
            RunId = c.Run.Name, Iteration = iteration, PolicyVersion = iteration - 1, MasterSeed = c.Run.Seed,
            SamplesPerPrompt = c.Rollout.SamplesPerPrompt, BatchSize = c.Rollout.BatchSize,
            Sampling = new SamplingParams
            {
                Temperature = (float)c.Rollout.Temperature, TopP = (float)c.Rollout.TopP, TopK = c.Rollout.TopK, MaxNewTokens = c.Rollout.MaxNewTokens, RecordEntropy = true,
            },
        });
        var seconds = watch.Elapsed.TotalSeconds;
        EndProgress();
        // each slice writes its own part atomically; the prompt cursor after the iteration is the same for every slice
        var folder = Path.Combine(IterationFolder(iteration), "shards");
        System.IO.Directory.CreateDirectory(folder);
        using (var writer = new ShardWriter(folder))
        {
            writer.Append(rows);
            try
            {
                writer.WritePart(shard);
            }
            catch (Aspo.Native.AspoNativeException e)
            {
                // e.g. the disk is full: the part was written under a temporary name, which the writer removed
                throw new IOException($"{Path.Combine(folder, ShardSchema.PartFileName(shard))}: writing the rollout shard failed ({e.Message}); nothing was kept, rerun the stage", e);
            }
        }
        AtomicWrite(Path.Combine(folder, "rollout.json"), sampler.State.ToJson());
        if (rows.Count == 0)
            return;
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
        if (shards > 1)
            data["rollout/shard"] = shard;
        AppendMetrics("rollout", iteration, 0, data);
        _log.WriteLine(FormattableString.Invariant(
            $"iteration {iteration} rollout: {rows.Count} samples, score {data["critic/score/mean"]:F3}, length {data["response_length/mean"]:F1}, {data["perf/rollout_tokens_per_s"]:F0} tokens/s"));
    }

    /// <summary>Stage learn of iteration i: every shard part of iter-i → policy i (weights, optimizer, prompt cursor).</summary>
    public void Learn(int iteration)
    {
        RequireIteration(iteration);
        Learn(iteration, Path.Combine(IterationFolder(iteration), "shards"), replay: false);
    }

    /// <param name="replay">The shards come from another run: π_old is recomputed by the learner, the shards' log-probs
    /// feed the rollout correction, and each part's learner-vs-rollout log-prob difference is reported first.</param>
    private void Learn(int iteration, string shards, bool replay)
    {
        var c = _config;
        var previous = PolicyFolder(iteration - 1);
        using var learner = Learners.Load(previous, c.LearnerOptions);
        var rows = new List<RolloutRow>();
        var parts = new List<(string File, int First, int Count)>();
        var watch = Stopwatch.StartNew();
        using (var reader = new ShardReader(shards))
        {
            foreach (var file in reader.Files)
            {
                using var part = new ShardReader(file);
                var partRows = part.ReadBatches().SelectMany(b => b).ToList();
                parts.Add((file, rows.Count, partRows.Count));
                rows.AddRange(partRows);
            }
        }
        if (rows.Count != c.SequencesPerIteration)
            throw new ConfigException($"{shards}: {rows.Count} rollout rows, expected {c.SequencesPerIteration} (prompts_per_iteration × n); is a rollout shard missing?");
        var foreign = rows.FirstOrDefault(r => r.RunId != c.Run.Name);
        if (!replay && foreign is not null)
            throw new ConfigException($"{shards}: row {foreign.PromptUid}/{foreign.SampleIndex} belongs to run '{foreign.RunId}', not '{c.Run.Name}' (use `aspo replay` to learn from another run's shards)");
        var stale = rows.FirstOrDefault(r => r.PolicyVersion != iteration - 1);
        if (!replay && stale is not null)
            throw new ConfigException($"{shards}: row {stale.PromptUid}/{stale.SampleIndex} was sampled by policy version {stale.PolicyVersion}, the learner holds version {iteration - 1}");
        // the learner's log-probs before any update, once: the rollout-vs-learner report, and π_old in replay
        var recomputed = LearnStage.Recompute(learner, rows, c.Algorithm.MicroBatch);
        var (mean, max, over) = LearnStage.Mismatch(recomputed, rows);
        if (replay)
        {
            foreach (var (file, start, count) in parts)
            {
                var (m, x, f) = LearnStage.Mismatch(recomputed[start..(start + count)], rows.GetRange(start, count));
                _log.WriteLine(FormattableString.Invariant($"iteration {iteration} replay: {Path.GetFileName(file)} (policy version {rows.ElementAtOrDefault(start)?.PolicyVersion}) learner vs rollout |Δ logπ| mean {m:E2}, max {x:E2}, {f:P2} over 1e-3"));
                AppendMetrics("shard", iteration, 0, new Dictionary<string, double>
                {
                    ["replay/logprob_abs_diff_mean"] = m, ["replay/logprob_abs_diff_max"] = x, ["replay/logprob_frac_over_1e-3"] = f,
                    ["replay/part"] = int.Parse(Path.GetFileNameWithoutExtension(file)["part-".Length..], CultureInfo.InvariantCulture),
                });
            }
        }
        var stepsPerIteration = c.Algorithm.PpoEpochs * (c.SequencesPerIteration / c.Algorithm.MiniBatch);
        var learnClock = Stopwatch.StartNew();
        var steps = LearnStage.Run(learner, rows, new LearnSettings
        {
            Algorithm = c.Algorithm, Optimizer = c.Optimizer, Seed = c.Run.Seed, Iteration = iteration, TotalSteps = c.Run.Iterations * stepsPerIteration,
            LearnerOldLogProbs = replay ? recomputed : null,
        }, (k, n, m) =>
        {
            var perStep = learnClock.Elapsed.TotalSeconds / k;
            Progress(FormattableString.Invariant(
                $"iteration {iteration} learn step {k}/{n}: loss {m.GetValueOrDefault("actor/pg_loss"):F4}, entropy {m.GetValueOrDefault("actor/entropy"):F3}, clipfrac {m.GetValueOrDefault("actor/pg_clipfrac"):F3}, grad norm {m.GetValueOrDefault("actor/grad_norm"):F3}, {perStep:F1} s/step, ETA {perStep * (n - k):F0} s"),
                everyCall: true);
        });
        EndProgress();
        var seconds = watch.Elapsed.TotalSeconds;
        var first = learner.OptimizerStep - steps.Count;
        for (var s = 0; s < steps.Count; s++)
            AppendMetrics("step", iteration, first + s + 1, steps[s]);
        AtomicFolder(PolicyFolder(iteration), folder =>
        {
            learner.SaveCheckpoint(folder);
            CopyTokenizer(previous, folder);
            learner.SaveOptimizer(Path.Combine(folder, Learners.OptimizerFile));
            var cursorFile = Path.Combine(shards, "rollout.json");
            AtomicWrite(Path.Combine(folder, "trainer_state.json"), File.Exists(cursorFile) ? File.ReadAllText(cursorFile) : new SamplerState(0, 0).ToJson());
        });
        var data = steps.SelectMany(d => d).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Average(kv => kv.Value), StringComparer.Ordinal);
        data["timing_s/update_actor"] = seconds;
        // verl's step timing and throughput: generation (the slowest rollout slice) + update, all tokens of the iteration
        var gen = RolloutSeconds(iteration);
        data["timing_s/step"] = gen + seconds;
        data["perf/total_num_tokens"] = rows.Sum(r => (double)(r.PromptTokenIds.Length + r.ResponseTokenIds.Length));
        data["perf/throughput"] = data["perf/total_num_tokens"] / Math.Max(gen + seconds, 1e-9);
        data["perf/learner_tokens_per_s"] = steps.Sum(d => d["actor/tokens"]) / Math.Max(seconds, 1e-9);
        data["rollout_learner/logprob_abs_diff_mean"] = mean;
        data["rollout_learner/logprob_abs_diff_max"] = max;
        data["rollout_learner/logprob_frac_over_1e-3"] = over;
        AppendMetrics("iteration", iteration, learner.OptimizerStep, data);
        _log.WriteLine(FormattableString.Invariant(
            $"iteration {iteration} learn: {steps.Count} steps, loss {data.GetValueOrDefault("actor/pg_loss"):F4}, entropy {data.GetValueOrDefault("actor/entropy"):F3}, clipfrac {data.GetValueOrDefault("actor/pg_clipfrac"):F3}, rollout-vs-learner |Δ logπ| mean {mean:E1} max {max:E1}"));
    }

    /// <summary>
    /// "held-out avg@n: start% -> end% (+delta points)" over all prompts of the first suite, from the first evaluation
    /// (the starting policy) to the last; null without two evaluations.
    /// </summary>
    public string? HeldOutChange()
    {
        if (!File.Exists(MetricsPath))
            return null;
        var rows = RunReport.ReadMetrics(Directory);
        var evals = RunReport.Series(rows, RunReport.Charts.Single(c => c.Kind == "eval"));
        if (evals.Count < 2)
            return null;
        var key = rows.First(r => r.Kind == "eval").Data.Select(kv => kv.Key).First(k => k.StartsWith(RunReport.HeldOutPrefix, StringComparison.Ordinal));
        var n = key[RunReport.HeldOutPrefix.Length..];
        var (first, last) = (evals[0].Y, evals[^1].Y);
        var delta = 100 * (last - first);
        return FormattableString.Invariant($"held-out avg@{n}: {100 * first:F1}% -> {100 * last:F1}% ({(delta >= 0 ? "+" : "")}{delta:F1} points)");
    }

    /// <summary>The generation time of iteration i from its rollout metric rows (the slowest slice; 0 if none).</summary>
    private double RolloutSeconds(int iteration) =>
        !File.Exists(MetricsPath) ? 0
        : RunReport.ReadMetrics(Directory).Where(r => r.Kind == "rollout" && r.Iteration == iteration && r.Data["timing_s/gen"] is not null)
            .Select(r => r.Data["timing_s/gen"]!.GetValue<double>()).DefaultIfEmpty(0).Max();

    /// <summary>Stage eval of iteration i: policy i exported to a temporary folder and evaluated on every suite.</summary>
    public void Evaluate(int iteration)
    {
        if (iteration != 0)
            RequireIteration(iteration);
        var c = _config;
        var suites = _suites;
        var policy = PolicyFolder(iteration);
        var (config, parameters) = Checkpoint.Load(policy);
        var onnx = Path.Combine(IterationFolder(iteration), "eval-onnx");
        AtomicFolder(onnx, folder => DecoderExporter.Export(config, parameters, folder, policy, new ExportOptions()));
        try
        {
            using var env = new OrtEnvironment();
            using var model = OnnxDecoder.Open(env, onnx, c.Run.Threads);
            var tokenizer = model.LoadTokenizer();
            var template = Template(onnx);
            foreach (var suite in suites)
            {
                var limited = suite.WithLimit(c.Eval.Limit);
                var settings = c.Eval.SamplesPerPrompt > 0 ? suite.Settings with { SamplesPerPrompt = c.Eval.SamplesPerPrompt, Ks = null } : suite.Settings;
                var prompts = limited.LoadPrompts();
                var result = EvalStage.Run(model, tokenizer, template, RewardRegistry.CreateDefault(suite.RequireThinkClose), prompts, settings);
                var suiteResult = new SuiteResult(suite.Name, prompts.Count, settings, result.Summaries);
                _log.Write(EvalReport.Table(suiteResult));
                AppendMetrics(EvalReport.MetricsRow(suiteResult, iteration));
            }
        }
        finally
        {
            System.IO.Directory.Delete(onnx, recursive: true);
        }
    }
}
