using System.Text;
using Aspo.Algorithms;
using Aspo.Rewards;

namespace Aspo.Pipeline.Config;

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
        var sections = ConfigKeys.Sections.ToDictionary(name => name, root.Section);
        var config = new PipelineConfig { SourceFile = root.File };
        foreach (var key in ConfigKeys.All)
        {
            var section = sections[key.Section];
            if (key.NotApplicable(config) is { } why)
            {
                // a key that does not apply is refused when it asks for something (a value other than its default):
                // the shipped pipeline.yaml spells out defaults, and `--set algorithm.loss=dpo` must still run on it
                if (section.Has(key.Name) && !Equals(ConfigKeys.Scalar(key.Value(key.Read(section, config)) ?? ""), ConfigKeys.Scalar(key.Value(config) ?? "")))
                    throw new ConfigException($"{root.File}: {key.Path}: {why}");
                continue;
            }
            config = key.Read(section, config);
        }
        foreach (var section in sections.Values)
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
        Check(Run.MaxMinutes >= 0, $"run.max_minutes must be ≥ 0 (0 = no budget), got {Run.MaxMinutes}");
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
        Check(AdvantageEstimators.Names.Contains(Algorithm.Advantage) || Algorithm.Advantage is Gae.Name or SpoChain.Name or SpoTree.Name,
            $"algorithm.advantage: unknown estimator '{Algorithm.Advantage}'; valid: {string.Join(", ", AdvantageEstimators.Names)}, {Gae.Name}, {SpoChain.Name}, {SpoTree.Name}");
        if (Algorithm.Advantage == SpoTree.Name)
        {
            Check(Algorithm.SpoRho is > 0 and <= 1, $"algorithm.spo_rho must be in (0, 1], got {Algorithm.SpoRho}");
            Check(Algorithm.SpoTreeBranching.Count >= 1 && Algorithm.SpoTreeBranching.All(b => b >= 1),
                $"algorithm.spo_tree_branching must list at least one branching factor, each ≥ 1, got [{string.Join(", ", Algorithm.SpoTreeBranching)}]");
            Check(Algorithm.SpoTreeSegment >= 1 && Rollout.MaxNewTokens > Algorithm.SpoTreeBranching.Count * Algorithm.SpoTreeSegment,
                $"algorithm.spo_tree_segment ({Algorithm.SpoTreeSegment}) × {Algorithm.SpoTreeBranching.Count} levels above the last must leave tokens for the last level: rollout.max_new_tokens is {Rollout.MaxNewTokens}");
        }
        if (Algorithm.Advantage == SpoChain.Name)
        {
            Check(Algorithm.SpoRho is > 0 and <= 1, $"algorithm.spo_rho must be in (0, 1], got {Algorithm.SpoRho}");
            Check(Algorithm.SpoInterval >= 1, $"algorithm.spo_interval must be ≥ 1, got {Algorithm.SpoInterval}");
            Check(Algorithm.SpoContinuations >= 1, $"algorithm.spo_continuations must be ≥ 1, got {Algorithm.SpoContinuations}");
        }
        if (Algorithm.Advantage == Gae.Name)
        {
            Check(Algorithm.Gamma is >= 0 and <= 1 && Algorithm.Lambda is >= 0 and <= 1, $"algorithm.gamma and algorithm.lam must be in [0, 1], got {Algorithm.Gamma} and {Algorithm.Lambda}");
            Check(Algorithm.ValueCoefficient >= 0, $"algorithm.vf_coef must be ≥ 0, got {Algorithm.ValueCoefficient}");
            Check(Algorithm.ValueClipRange > 0, $"algorithm.cliprange_value must be > 0, got {Algorithm.ValueClipRange}");
            Check(Algorithm.ValueLearningRate > 0, $"algorithm.value_lr must be > 0, got {Algorithm.ValueLearningRate}");
            Check(Learner.Backend == "native", $"algorithm.advantage gae puts a value head on the policy's trunk, which learner.backend {Learner.Backend} cannot do yet; use learner.backend native");
        }
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
        Check(Algorithm.ReferenceEvery >= 0, $"algorithm.ref_every must be ≥ 0 (0 = the starting checkpoint), got {Algorithm.ReferenceEvery}");
        if (Algorithm.Loss == DpoLoss.Name)
        {
            Check(Algorithm.DpoBeta > 0, $"algorithm.dpo_beta must be > 0, got {Algorithm.DpoBeta}");
            Check(PreferencePairs.SelectionNames.Contains(Algorithm.DpoPairs), $"algorithm.dpo_pairs: unknown '{Algorithm.DpoPairs}'; valid: {string.Join(", ", PreferencePairs.SelectionNames)}");
            Check(Algorithm.MiniBatch % Rollout.SamplesPerPrompt == 0 && Rollout.SamplesPerPrompt >= 2,
                $"algorithm.loss dpo takes whole prompt groups per step: rollout.n ({Rollout.SamplesPerPrompt}) must be ≥ 2 and divide algorithm.mini_batch ({Algorithm.MiniBatch})");
        }
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

    private static IEnumerable<int> Divisors(int n) => Enumerable.Range(1, n).Where(k => n % k == 0);

    /// <summary>The resolved config as YAML: every setting that applies, with its value in effect, loadable again by <see cref="Load"/>.</summary>
    public string ToYaml()
    {
        var b = new StringBuilder("# resolved configuration (every setting in effect, after --set overrides)\n");
        foreach (var section in ConfigKeys.Sections)
        {
            b.Append(section).Append(":\n");
            foreach (var key in ConfigKeys.All.Where(k => k.Section == section && k.NotApplicable(this) is null))
            {
                if (key.Value(this) is { } value)
                    b.Append("  ").Append(key.Name).Append(": ").Append(ConfigKeys.Scalar(value)).Append('\n');
            }
        }
        return b.ToString();
    }
}
