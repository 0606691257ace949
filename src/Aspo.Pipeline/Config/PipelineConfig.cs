using System.Globalization;
using System.Text;
using Aspo.Algorithms;

namespace Aspo.Pipeline.Config;

/// <summary>run: what the loop is called, where it writes, how long it runs.</summary>
public sealed record RunSection
{
    public string Name { get; init; } = "default";
    /// <summary>The run directory; relative paths are resolved against the config file's folder. Default: runs/&lt;name&gt;.</summary>
    public string? Output { get; init; }
    public ulong Seed { get; init; } = 1;
    public int Iterations { get; init; } = 20;
    /// <summary>Learner and ONNX Runtime threads; 0 = every core.</summary>
    public int Threads { get; init; }
}

/// <summary>model: the starting checkpoint (an HF folder with config.json, weights and tokenizer files).</summary>
public sealed record ModelSection
{
    public string Path { get; init; } = "";
    /// <summary>Chat template name; null = recognised from tokenizer_config.json.</summary>
    public string? ChatTemplate { get; init; }
}

/// <summary>data: the training prompts.</summary>
public sealed record DataSection
{
    public string Train { get; init; } = "";
    public string PromptColumn { get; init; } = "prompt";
    public string? AnswerColumn { get; init; }
    public string DataSource { get; init; } = "default";
    public bool RequireThinkClose { get; init; }
}

/// <summary>rollout: how many prompts per iteration and how they are sampled (training defaults: T = 1, top-p 1, top-k off).</summary>
public sealed record RolloutSection
{
    public int PromptsPerIteration { get; init; } = 64;
    public int SamplesPerPrompt { get; init; } = 8;
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    public int TopK { get; init; }
    public int MaxNewTokens { get; init; } = 256;
    /// <summary>Sequences decoding at once (continuous batching refills freed slots).</summary>
    public int BatchSize { get; init; } = 64;
    public bool Int4 { get; init; }
    /// <summary>Where ONNX Runtime samples: cpu, cuda or cuda:N (a CUDA build: -p:OnnxBackend=cuda).</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>host (logits to the host each step), graph (the exported sampling head) or auto (graph on a GPU).</summary>
    public string Sampler { get; init; } = Aspo.Onnx.SamplingHead.Auto;
    /// <summary>Whether decode steps sample inside the graph (the export then carries the sampling head).</summary>
    public bool UsesSamplingHead => Aspo.Onnx.SamplingHead.Enabled(Sampler, Device);
}

/// <summary>algorithm: advantages, the policy loss and its parameters, KL, aggregation and the update schedule.</summary>
public sealed record AlgorithmSection
{
    public string Advantage { get; init; } = "grpo";
    public string Loss { get; init; } = "aspo";
    public PolicyLossOptions LossOptions { get; init; } = PolicyLosses.DefaultOptions("aspo");
    public string Aggregation { get; init; } = "token-mean";
    public string KlEstimator { get; init; } = "k3";
    public double KlCoefficient { get; init; }
    public int PpoEpochs { get; init; } = 1;
    /// <summary>Sequences per optimizer step.</summary>
    public int MiniBatch { get; init; } = 64;
    /// <summary>Sequences per forward/backward (gradients accumulate over a mini-batch's micro-batches); 0 = auto: the
    /// largest divisor of the mini-batch whose memory plan fits (chosen by the learn stage from the rows' lengths).</summary>
    public int MicroBatch { get; init; } = 8;
    /// <summary>Importance weights π_old/π_rollout when the shards' policy is not the one trained (replay): off, token or sequence level.</summary>
    public RolloutCorrectionOptions RolloutCorrection { get; init; } = new();
}

/// <summary>optimizer: AdamW, gradient clipping and the learning-rate schedule.</summary>
public sealed record OptimizerSection
{
    public double LearningRate { get; init; } = 1e-6;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    public double WeightDecay { get; init; } = 0.01;
    public double GradClip { get; init; } = 1.0;
    public string Schedule { get; init; } = "constant";
    public int WarmupSteps { get; init; }
}

/// <summary>learner: which implementation trains the policy — the native C# learner or TorchSharp (CPU or CUDA) — and
/// the precision of its matrix multiplications. Changing it does not change the algorithm: checkpoints and optimizer
/// state are the same files, so a run may be resumed with another learner.</summary>
public sealed record LearnerSection
{
    public string Backend { get; init; } = "native";
    public string Device { get; init; } = "cpu";
    public string Dtype { get; init; } = "fp32";
}

/// <summary>eval: suites evaluated on the exported policy every k iterations (0 = never) and after the last one.</summary>
public sealed record EvalSection
{
    public IReadOnlyList<string> Suites { get; init; } = [];
    public int Every { get; init; }
    /// <summary>Overrides the suites' samples per prompt (0 = the suite's own).</summary>
    public int SamplesPerPrompt { get; init; }
    /// <summary>First N prompts of each suite dataset (0 = all).</summary>
    public int Limit { get; init; }
    /// <summary>The sampling engine: "aspo" (ours) or "genai" (ONNX Runtime GenAI 0.18).</summary>
    public string Engine { get; init; } = "aspo";
}

/// <summary>
/// The whole pipeline configuration: typed, immutable, with documented defaults. <see cref="Load"/> reads
/// pipeline.yaml strictly (unknown keys and wrong types are errors naming the file, line and key), applies
/// <c>--set a.b=value</c> overrides and checks the batch arithmetic; <see cref="ToYaml"/> writes the resolved config.
/// </summary>
public sealed record PipelineConfig
{
    public required string SourceFile { get; init; }
    public RunSection Run { get; init; } = new();
    public ModelSection Model { get; init; } = new();
    public DataSection Data { get; init; } = new();
    public RolloutSection Rollout { get; init; } = new();
    public AlgorithmSection Algorithm { get; init; } = new();
    public OptimizerSection Optimizer { get; init; } = new();
    public LearnerSection Learner { get; init; } = new();
    public EvalSection Eval { get; init; } = new();
    public RewardShapingSettings Reward { get; init; } = new();

    /// <summary>The run directory, absolute.</summary>
    public string RunDirectory => Resolve(Run.Output ?? System.IO.Path.Combine("runs", Run.Name));

    /// <summary>A path from the config, absolute (relative ones are relative to the config file's folder).</summary>
    public string Resolve(string path) => System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(SourceFile)!, path));

    public int SequencesPerIteration => Rollout.PromptsPerIteration * Rollout.SamplesPerPrompt;

    /// <summary>The learner settings of this run: learner section, run threads, optimizer moments.</summary>
    public Aspo.Model.LearnerOptions LearnerOptions => new()
    {
        Backend = Aspo.Model.LearnerOptions.ParseBackend(Learner.Backend), Device = Learner.Device,
        Precision = Aspo.Model.LearnerOptions.ParsePrecision(Learner.Dtype), Threads = Run.Threads,
        Optimizer = new Aspo.Model.AdamWOptions { Beta1 = Optimizer.Beta1, Beta2 = Optimizer.Beta2, Epsilon = Optimizer.Epsilon, WeightDecay = Optimizer.WeightDecay },
    };

    public static PipelineConfig Load(string path, IReadOnlyList<string>? overrides = null)
    {
        var root = YamlSection.Load(path, overrides ?? []);
        var run = root.Section("run");
        var model = root.Section("model");
        var data = root.Section("data");
        var rollout = root.Section("rollout");
        var algorithm = root.Section("algorithm");
        var optimizer = root.Section("optimizer");
        var eval = root.Section("eval");
        var learner = root.Section("learner");
        var d = new PipelineConfig { SourceFile = root.File };
        var lossName = algorithm.String("loss", d.Algorithm.Loss);
        if (!PolicyLosses.Names.Contains(lossName))
            throw new ConfigException($"{root.File}: algorithm.loss: unknown policy loss '{lossName}'; valid losses: {string.Join(", ", PolicyLosses.Names)}");
        var lossDefaults = PolicyLosses.DefaultOptions(lossName);
        var int4 = rollout.Bool("int4", d.Rollout.Int4);
        // int4 rollouts' log-probs differ from the learner's by up to ~3e-2 nats: correct for it unless told otherwise
        var correctionDefault = int4 ? "token" : "off";
        var config = d with
        {
            Run = new RunSection
            {
                Name = run.String("name", d.Run.Name), Output = run.OptionalString("output"), Seed = run.ULong("seed", d.Run.Seed),
                Iterations = run.Int("iterations", d.Run.Iterations), Threads = run.Int("threads", d.Run.Threads),
            },
            Model = new ModelSection { Path = model.RequiredString("path"), ChatTemplate = model.OptionalString("chat_template") },
            Data = new DataSection
            {
                Train = data.RequiredString("train"), PromptColumn = data.String("prompt_column", d.Data.PromptColumn),
                AnswerColumn = data.OptionalString("answer_column"), DataSource = data.String("data_source", d.Data.DataSource),
                RequireThinkClose = data.Bool("require_think_close", d.Data.RequireThinkClose),
            },
            Rollout = new RolloutSection
            {
                PromptsPerIteration = rollout.Int("prompts_per_iteration", d.Rollout.PromptsPerIteration),
                SamplesPerPrompt = rollout.Int("n", d.Rollout.SamplesPerPrompt), Temperature = rollout.Double("temperature", d.Rollout.Temperature),
                TopP = rollout.Double("top_p", d.Rollout.TopP), TopK = rollout.Int("top_k", d.Rollout.TopK),
                MaxNewTokens = rollout.Int("max_new_tokens", d.Rollout.MaxNewTokens), BatchSize = rollout.Int("batch_size", d.Rollout.BatchSize),
                Int4 = int4, Device = rollout.String("device", d.Rollout.Device),
                Sampler = rollout.String("sampler", d.Rollout.Sampler),
            },
            Algorithm = new AlgorithmSection
            {
                Advantage = algorithm.String("advantage", d.Algorithm.Advantage), Loss = lossName,
                LossOptions = lossDefaults with
                {
                    ClipLow = algorithm.Double("clip_low", lossDefaults.ClipLow), ClipHigh = algorithm.Double("clip_high", lossDefaults.ClipHigh),
                    DualClip = algorithm.Double("dual_clip", lossDefaults.DualClip),
                    AspoEntropySplit = algorithm.Bool("aspo_entropy_split", lossDefaults.AspoEntropySplit),
                    AspoLowEntropyClip = algorithm.Double("aspo_low_entropy_clip", lossDefaults.AspoLowEntropyClip),
                    AspoHighEntropyClip = algorithm.Double("aspo_high_entropy_clip", lossDefaults.AspoHighEntropyClip),
                    AspoEntropyQuantile = algorithm.Double("aspo_entropy_quantile", lossDefaults.AspoEntropyQuantile),
                    EntropyTopRatio = algorithm.Double("entropy_top_ratio", lossDefaults.EntropyTopRatio),
                    ClipCovRatio = algorithm.Double("clip_cov_ratio", lossDefaults.ClipCovRatio),
                    ClipCovLowerBound = algorithm.Double("clip_cov_lower_bound", lossDefaults.ClipCovLowerBound),
                    ClipCovUpperBound = algorithm.Double("clip_cov_upper_bound", lossDefaults.ClipCovUpperBound),
                    KlCovRatio = algorithm.Double("kl_cov_ratio", lossDefaults.KlCovRatio),
                    KlCovCoefficient = algorithm.Double("kl_cov_coefficient", lossDefaults.KlCovCoefficient),
                },
                Aggregation = algorithm.String("aggregation", d.Algorithm.Aggregation), KlEstimator = algorithm.String("kl_estimator", d.Algorithm.KlEstimator),
                KlCoefficient = algorithm.Double("kl_coef", d.Algorithm.KlCoefficient), PpoEpochs = algorithm.Int("ppo_epochs", d.Algorithm.PpoEpochs),
                MiniBatch = algorithm.Int("mini_batch", d.Algorithm.MiniBatch), MicroBatch = algorithm.OptionalString("micro_batch") == "auto" ? 0 : algorithm.Int("micro_batch", d.Algorithm.MicroBatch),
                RolloutCorrection = new RolloutCorrectionOptions
                {
                    Level = ParseEnum<RolloutCorrectionLevel>(root.File, "algorithm.rollout_correction", algorithm.String("rollout_correction", correctionDefault)),
                    Mode = ParseEnum<RolloutCorrectionMode>(root.File, "algorithm.rollout_correction_mode", algorithm.String("rollout_correction_mode", "truncate")),
                    Threshold = algorithm.Double("rollout_correction_threshold", 2.0),
                },
            },
            Optimizer = new OptimizerSection
            {
                LearningRate = optimizer.Double("lr", d.Optimizer.LearningRate), Beta1 = optimizer.Double("beta1", d.Optimizer.Beta1),
                Beta2 = optimizer.Double("beta2", d.Optimizer.Beta2), Epsilon = optimizer.Double("eps", d.Optimizer.Epsilon),
                WeightDecay = optimizer.Double("weight_decay", d.Optimizer.WeightDecay), GradClip = optimizer.Double("grad_clip", d.Optimizer.GradClip),
                Schedule = optimizer.String("schedule", d.Optimizer.Schedule), WarmupSteps = optimizer.Int("warmup_steps", d.Optimizer.WarmupSteps),
            },
            Learner = new LearnerSection
            {
                Backend = learner.String("backend", d.Learner.Backend), Device = learner.String("device", d.Learner.Device),
                Dtype = learner.String("dtype", d.Learner.Dtype),
            },
            Eval = new EvalSection
            {
                Suites = eval.StringList("suites") ?? [], Every = eval.Int("every", d.Eval.Every), SamplesPerPrompt = eval.Int("n", d.Eval.SamplesPerPrompt),
                Limit = eval.Int("limit", d.Eval.Limit), Engine = eval.String("engine", d.Eval.Engine),
            },
            Reward = RewardShapingSettings.FromYaml(root.Section("reward")),
        };
        foreach (var section in new[] { run, model, data, rollout, algorithm, optimizer, learner, eval })
            section.RejectUnknownKeys();
        root.RejectUnknownKeys();
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{root.File}: {e.Message}");
        }
        return config;
    }

    /// <summary>Every setting checked at start, with what is allowed; batch and group arithmetic included.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok)
                throw new ArgumentException(message);
        }
        Check(Run.Iterations >= 1, $"run.iterations must be ≥ 1, got {Run.Iterations}");
        Check(Run.Threads >= 0, $"run.threads must be ≥ 0 (0 = every core), got {Run.Threads}");
        Check(Run.Name.Length > 0 && Run.Name.IndexOfAny(System.IO.Path.GetInvalidFileNameChars()) < 0, $"run.name must be a valid folder name, got '{Run.Name}'");
        Check(Rollout.PromptsPerIteration >= 1, $"rollout.prompts_per_iteration must be ≥ 1, got {Rollout.PromptsPerIteration}");
        Check(Rollout.SamplesPerPrompt >= 1, $"rollout.n must be ≥ 1, got {Rollout.SamplesPerPrompt}");
        Check(Algorithm.Advantage == "rloo" ? Rollout.SamplesPerPrompt >= 2 : true, "rollout.n must be ≥ 2 for rloo (the leave-one-out baseline needs two samples)");
        Check(Rollout.Temperature > 0, $"rollout.temperature must be > 0 for training (old log-probs are log_softmax(logits/T)), got {Rollout.Temperature}");
        Check(Rollout.TopP is > 0 and <= 1, $"rollout.top_p must be in (0, 1], got {Rollout.TopP}");
        Check(Rollout.TopK >= 0, $"rollout.top_k must be ≥ 0 (0 = off), got {Rollout.TopK}");
        Check(Rollout.MaxNewTokens >= 1, $"rollout.max_new_tokens must be ≥ 1, got {Rollout.MaxNewTokens}");
        Check(Rollout.BatchSize >= 1, $"rollout.batch_size must be ≥ 1, got {Rollout.BatchSize}");
        Check(Aspo.Model.LearnerOptions.IsValidDevice(Rollout.Device), $"rollout.device: '{Rollout.Device}'; valid: cpu, cuda, cuda:N");
        Check(Aspo.Onnx.SamplingHead.Modes.Contains(Rollout.Sampler), $"rollout.sampler: unknown '{Rollout.Sampler}'; valid: {string.Join(", ", Aspo.Onnx.SamplingHead.Modes)}");
        Check(AdvantageEstimators.Names.Contains(Algorithm.Advantage), $"algorithm.advantage: unknown estimator '{Algorithm.Advantage}'; valid: {string.Join(", ", AdvantageEstimators.Names)}");
        Check(Aggregation.Names.Contains(Algorithm.Aggregation), $"algorithm.aggregation: unknown mode '{Algorithm.Aggregation}'; valid: {string.Join(", ", Aggregation.Names)}");
        try
        {
            KlEstimators.Canonical(Algorithm.KlEstimator);
            Algorithm.LossOptions.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"algorithm: {e.Message}");
        }
        Check(Algorithm.KlCoefficient >= 0, $"algorithm.kl_coef must be ≥ 0, got {Algorithm.KlCoefficient}");
        Check(Algorithm.KlCoefficient == 0, "algorithm.kl_coef > 0 needs reference log-probs, which the learn stage does not compute yet; set it to 0");
        Check(Algorithm.RolloutCorrection.Threshold > 1, $"algorithm.rollout_correction_threshold must be > 1, got {Algorithm.RolloutCorrection.Threshold}");
        Check(Algorithm.PpoEpochs >= 1, $"algorithm.ppo_epochs must be ≥ 1, got {Algorithm.PpoEpochs}");
        var total = SequencesPerIteration;
        Check(Algorithm.MiniBatch >= 1 && total % Algorithm.MiniBatch == 0,
            $"algorithm.mini_batch ({Algorithm.MiniBatch}) must divide rollout.prompts_per_iteration × rollout.n = {Rollout.PromptsPerIteration} × {Rollout.SamplesPerPrompt} = {total} sequences; allowed: {string.Join(", ", Divisors(total))}");
        Check(Algorithm.MicroBatch == 0 || Algorithm.MicroBatch >= 1 && Algorithm.MiniBatch % Algorithm.MicroBatch == 0,
            $"algorithm.micro_batch ({Algorithm.MicroBatch}) must divide algorithm.mini_batch ({Algorithm.MiniBatch}); allowed: {string.Join(", ", Divisors(Math.Max(Algorithm.MiniBatch, 1)))}, or auto");
        Check(Optimizer.LearningRate > 0, $"optimizer.lr must be > 0, got {Optimizer.LearningRate}");
        Check(Optimizer.GradClip >= 0, $"optimizer.grad_clip must be ≥ 0 (0 = off), got {Optimizer.GradClip}");
        Check(Aspo.Model.LearningRateSchedule.Kinds.Contains(Optimizer.Schedule), $"optimizer.schedule: unknown '{Optimizer.Schedule}'; valid: {string.Join(", ", Aspo.Model.LearningRateSchedule.Kinds)}");
        Check(Optimizer.WarmupSteps >= 0, $"optimizer.warmup_steps must be ≥ 0, got {Optimizer.WarmupSteps}");
        new Aspo.Model.AdamWOptions { Beta1 = Optimizer.Beta1, Beta2 = Optimizer.Beta2, Epsilon = Optimizer.Epsilon, WeightDecay = Optimizer.WeightDecay }.Validate();
        Check(Aspo.Model.LearnerOptions.BackendNames.Contains(Learner.Backend),
            $"learner.backend: unknown '{Learner.Backend}'; valid: {string.Join(", ", Aspo.Model.LearnerOptions.BackendNames)}");
        Check(Aspo.Model.LearnerOptions.IsValidDevice(Learner.Device), $"learner.device: '{Learner.Device}'; valid: cpu, cuda, cuda:N");
        Check(Aspo.Model.LearnerOptions.PrecisionNames.Contains(Learner.Dtype),
            $"learner.dtype: unknown '{Learner.Dtype}'; valid: {string.Join(", ", Aspo.Model.LearnerOptions.PrecisionNames)}");
        Check(Learner.Backend == "torch" || Learner.Device == "cpu", $"learner.device {Learner.Device} needs learner.backend torch (the native learner runs on the CPU)");
        Check(Eval.Every >= 0 && Eval.SamplesPerPrompt >= 0 && Eval.Limit >= 0, "eval.every, eval.n and eval.limit must be ≥ 0");
        Check(Aspo.Onnx.SamplingEngines.Names.Contains(Eval.Engine), $"eval.engine: unknown '{Eval.Engine}'; valid: {string.Join(", ", Aspo.Onnx.SamplingEngines.Names)}");
        Reward.Validate();
    }

    private static T ParseEnum<T>(string file, string key, string value) where T : struct, Enum =>
        Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && !int.TryParse(value, out _)
            ? parsed
            : throw new ConfigException($"{file}: {key}: unknown value '{value}'; valid: {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");

    private static IEnumerable<int> Divisors(int n) => Enumerable.Range(1, n).Where(k => n % k == 0);

    /// <summary>The resolved config as YAML: every setting with its value in effect, loadable again by <see cref="Load"/>.</summary>
    public string ToYaml()
    {
        var b = new StringBuilder("# resolved configuration (every setting in effect, after --set overrides)\n");
        void Section(string name, params (string Key, object? Value)[] items)
        {
            b.Append(name).Append(":\n");
            foreach (var (key, value) in items)
            {
                if (value is not null)
                    b.Append("  ").Append(key).Append(": ").Append(Scalar(value)).Append('\n');
            }
        }
        Section("run", ("name", Run.Name), ("output", RunDirectory), ("seed", Run.Seed), ("iterations", Run.Iterations), ("threads", Run.Threads));
        Section("model", ("path", Resolve(Model.Path)), ("chat_template", Model.ChatTemplate));
        Section("data", ("train", Resolve(Data.Train)), ("prompt_column", Data.PromptColumn), ("answer_column", Data.AnswerColumn),
            ("data_source", Data.DataSource), ("require_think_close", Data.RequireThinkClose));
        Section("rollout", ("prompts_per_iteration", Rollout.PromptsPerIteration), ("n", Rollout.SamplesPerPrompt), ("temperature", Rollout.Temperature),
            ("top_p", Rollout.TopP), ("top_k", Rollout.TopK), ("max_new_tokens", Rollout.MaxNewTokens), ("batch_size", Rollout.BatchSize), ("int4", Rollout.Int4),
            ("device", Rollout.Device), ("sampler", Rollout.Sampler));
        var o = Algorithm.LossOptions;
        Section("algorithm", ("advantage", Algorithm.Advantage), ("loss", Algorithm.Loss), ("clip_low", o.ClipLow), ("clip_high", o.ClipHigh),
            ("dual_clip", o.DualClip), ("aspo_entropy_split", o.AspoEntropySplit), ("aspo_low_entropy_clip", o.AspoLowEntropyClip),
            ("aspo_high_entropy_clip", o.AspoHighEntropyClip), ("aspo_entropy_quantile", o.AspoEntropyQuantile), ("entropy_top_ratio", o.EntropyTopRatio),
            ("clip_cov_ratio", o.ClipCovRatio), ("clip_cov_lower_bound", o.ClipCovLowerBound), ("clip_cov_upper_bound", o.ClipCovUpperBound),
            ("kl_cov_ratio", o.KlCovRatio), ("kl_cov_coefficient", o.KlCovCoefficient), ("aggregation", Algorithm.Aggregation),
            ("kl_estimator", Algorithm.KlEstimator), ("kl_coef", Algorithm.KlCoefficient), ("ppo_epochs", Algorithm.PpoEpochs),
            ("mini_batch", Algorithm.MiniBatch), ("micro_batch", Algorithm.MicroBatch == 0 ? "auto" : Algorithm.MicroBatch),
            ("rollout_correction", Algorithm.RolloutCorrection.Level.ToString().ToLowerInvariant()),
            ("rollout_correction_mode", Algorithm.RolloutCorrection.Mode.ToString().ToLowerInvariant()),
            ("rollout_correction_threshold", Algorithm.RolloutCorrection.Threshold));
        Section("optimizer", ("lr", Optimizer.LearningRate), ("beta1", Optimizer.Beta1), ("beta2", Optimizer.Beta2), ("eps", Optimizer.Epsilon),
            ("weight_decay", Optimizer.WeightDecay), ("grad_clip", Optimizer.GradClip), ("schedule", Optimizer.Schedule), ("warmup_steps", Optimizer.WarmupSteps));
        Section("learner", ("backend", Learner.Backend), ("device", Learner.Device), ("dtype", Learner.Dtype));
        b.Append("eval:\n  suites: [").Append(string.Join(", ", Eval.Suites.Select(s => Scalar(Resolve(s))))).Append("]\n")
         .Append("  every: ").Append(Eval.Every).Append("\n  n: ").Append(Eval.SamplesPerPrompt).Append("\n  limit: ").Append(Eval.Limit)
         .Append("\n  engine: ").Append(Eval.Engine).Append('\n');
        var r = Reward;
        b.Append("reward:\n  format: {required_tags: [").Append(string.Join(", ", r.RequiredTags.Select(Scalar))).Append("], bonus: ").Append(Scalar(r.FormatBonus))
         .Append(r.FormatMissingScore is { } m ? ", missing_score: " + Scalar(m) : "").Append("}\n")
         .Append("  length_penalty: {target_tokens: ").Append(r.LengthPenaltyTarget).Append(", per_token: ").Append(Scalar(r.LengthPenaltyPerToken)).Append("}\n")
         .Append("  overlong: {max_response_length: ").Append(r.OverlongMaxLength).Append(", buffer: ").Append(r.OverlongBuffer)
         .Append(", penalty_factor: ").Append(Scalar(r.OverlongPenaltyFactor)).Append("}\n");
        return b.ToString();
    }

    private static string Scalar(object value) => value switch
    {
        bool x => x ? "true" : "false",
        double x => x.ToString("R", CultureInfo.InvariantCulture),
        string s => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };
}
