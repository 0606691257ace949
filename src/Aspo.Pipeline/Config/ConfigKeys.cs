using System.Globalization;
using System.Text;
using Aspo.Algorithms;
using Aspo.Rewards;

namespace Aspo.Pipeline.Config;

/// <summary>
/// One pipeline.yaml key, declared once: its section and name, its default as the README shows it, how it is read into
/// the configuration (strictly: a wrong type is an error naming the file, line and key) and its value in effect, which
/// <see cref="PipelineConfig.ToYaml"/> writes. Keys that apply only to some configurations (a loss's options) say so.
/// </summary>
public sealed record ConfigKey(string Section, string Name, string Default,
    Func<YamlSection, PipelineConfig, PipelineConfig> Read, Func<PipelineConfig, object?> Value)
{
    public string Path => $"{Section}.{Name}";

    /// <summary>Null when the key applies to the configuration read so far; otherwise why it does not (setting it is refused).</summary>
    public Func<PipelineConfig, string?> NotApplicable { get; init; } = _ => null;
}

/// <summary>A value written into the resolved YAML as it is (a flow mapping or list), not as a quoted scalar.</summary>
public sealed record RawYaml(string Text);

/// <summary>
/// Every pipeline.yaml key in the order it is read (a key may depend on one before it: a loss's options take that
/// loss's defaults, rollout_correction defaults to token for int4 rollouts). <see cref="PipelineConfig.Load"/>,
/// <see cref="PipelineConfig.ToYaml"/> and the README's configuration table (<see cref="MarkdownTable"/>, checked by a
/// test) all come from this table.
/// </summary>
public static class ConfigKeys
{
    public static IReadOnlyList<string> Sections { get; } = ["run", "model", "data", "rollout", "algorithm", "optimizer", "learner", "eval", "reward"];

    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        Text("run", "name", "default", c => c.Run.Name, (c, v) => c with { Run = c.Run with { Name = v } }),
        new("run", "output", "runs/&lt;name&gt; next to the config",
            (y, c) => c with { Run = c.Run with { Output = y.OptionalString("output") ?? c.Run.Output } }, c => c.RunDirectory),
        new("run", "seed", "1", (y, c) => c with { Run = c.Run with { Seed = y.ULong("seed", c.Run.Seed) } }, c => c.Run.Seed),
        Integer("run", "iterations", "20", c => c.Run.Iterations, (c, v) => c with { Run = c.Run with { Iterations = v } }),
        Real("run", "max_minutes", "0 = no wall-clock budget; > 0: no iteration starts after it, the last one is evaluated", c => c.Run.MaxMinutes, (c, v) => c with { Run = c.Run with { MaxMinutes = v } }),
        Integer("run", "threads", "0 = every core", c => c.Run.Threads, (c, v) => c with { Run = c.Run with { Threads = v } }),

        new("model", "path", "required: HF folder with config.json, model.safetensors, tokenizer.json",
            (y, c) => c with { Model = c.Model with { Path = y.RequiredString("path") } }, c => c.Resolve(c.Model.Path)),
        new("model", "chat_template", "from tokenizer_config.json",
            (y, c) => c with { Model = c.Model with { ChatTemplate = y.OptionalString("chat_template") } }, c => c.Model.ChatTemplate),

        new("data", "train", "required: .parquet/.jsonl, verl layout",
            (y, c) => c with { Data = c.Data with { Train = y.RequiredString("train") } }, c => c.Resolve(c.Data.Train)),
        Text("data", "prompt_column", "prompt", c => c.Data.PromptColumn, (c, v) => c with { Data = c.Data with { PromptColumn = v } }),
        new("data", "answer_column", "reward_model.ground_truth",
            (y, c) => c with { Data = c.Data with { AnswerColumn = y.OptionalString("answer_column") } }, c => c.Data.AnswerColumn),
        Text("data", "data_source", "for files without the column", c => c.Data.DataSource, (c, v) => c with { Data = c.Data with { DataSource = v } }),
        Flag("data", "require_think_close", "false", c => c.Data.RequireThinkClose, (c, v) => c with { Data = c.Data with { RequireThinkClose = v } }),

        Integer("rollout", "prompts_per_iteration", "64", c => c.Rollout.PromptsPerIteration, (c, v) => c with { Rollout = c.Rollout with { PromptsPerIteration = v } }),
        Integer("rollout", "n", "8", c => c.Rollout.SamplesPerPrompt, (c, v) => c with { Rollout = c.Rollout with { SamplesPerPrompt = v } }),
        Real("rollout", "temperature", "1.0", c => c.Rollout.Temperature, (c, v) => c with { Rollout = c.Rollout with { Temperature = v } }),
        Real("rollout", "top_p", "1.0", c => c.Rollout.TopP, (c, v) => c with { Rollout = c.Rollout with { TopP = v } }),
        Integer("rollout", "top_k", "0 = off", c => c.Rollout.TopK, (c, v) => c with { Rollout = c.Rollout with { TopK = v } }),
        Integer("rollout", "max_new_tokens", "256", c => c.Rollout.MaxNewTokens, (c, v) => c with { Rollout = c.Rollout with { MaxNewTokens = v } }),
        Integer("rollout", "batch_size", "64 decoding slots", c => c.Rollout.BatchSize, (c, v) => c with { Rollout = c.Rollout with { BatchSize = v } }),
        Flag("rollout", "int4", "false", c => c.Rollout.Int4, (c, v) => c with { Rollout = c.Rollout with { Int4 = v } }),
        Text("rollout", "device", "cpu; cuda, cuda:N with a CUDA build", c => c.Rollout.Device, (c, v) => c with { Rollout = c.Rollout with { Device = v } }),
        Text("rollout", "sampler", "auto = in the graph on a GPU, on the host on the CPU; host; graph", c => c.Rollout.Sampler, (c, v) => c with { Rollout = c.Rollout with { Sampler = v } }),

        new("algorithm", "loss", "aspo; any of `src/Aspo.Algorithms` README; dpo", ReadLoss, c => c.Algorithm.Loss),
        Text("algorithm", "advantage", "grpo; dr_grpo, rloo, gae = PPO with a value head on the policy's trunk, spo_chain, spo_tree = SPO's Monte-Carlo segment advantages", c => c.Algorithm.Advantage, (c, v) => c with { Algorithm = c.Algorithm with { Advantage = v } })
            with { NotApplicable = NotForDpo("dpo ranks each prompt's responses by reward; it has no advantages") },
        Real("algorithm", "gamma", "1.0", c => c.Algorithm.Gamma, (c, v) => c with { Algorithm = c.Algorithm with { Gamma = v } }) with { NotApplicable = OnlyForGae },
        Real("algorithm", "lam", "1.0", c => c.Algorithm.Lambda, (c, v) => c with { Algorithm = c.Algorithm with { Lambda = v } }) with { NotApplicable = OnlyForGae },
        Real("algorithm", "vf_coef", "0.1", c => c.Algorithm.ValueCoefficient, (c, v) => c with { Algorithm = c.Algorithm with { ValueCoefficient = v } }) with { NotApplicable = OnlyForGae },
        Real("algorithm", "cliprange_value", "0.2", c => c.Algorithm.ValueClipRange, (c, v) => c with { Algorithm = c.Algorithm with { ValueClipRange = v } }) with { NotApplicable = OnlyForGae },
        Real("algorithm", "value_lr", "1e-4", c => c.Algorithm.ValueLearningRate, (c, v) => c with { Algorithm = c.Algorithm with { ValueLearningRate = v } }) with { NotApplicable = OnlyForGae },
        Real("algorithm", "spo_rho", "0.9", c => c.Algorithm.SpoRho, (c, v) => c with { Algorithm = c.Algorithm with { SpoRho = v } }) with { NotApplicable = OnlyFor(SpoChain.Name, SpoTree.Name) },
        new("algorithm", "spo_tree_branching", "[6, 6] children per node below the first level (rollout.n wide)",
            (y, c) => c with { Algorithm = c.Algorithm with { SpoTreeBranching = y.IntList("spo_tree_branching") ?? c.Algorithm.SpoTreeBranching } },
            c => new RawYaml("[" + string.Join(", ", c.Algorithm.SpoTreeBranching) + "]")) { NotApplicable = OnlyFor(SpoTree.Name) },
        Integer("algorithm", "spo_tree_segment", "30 tokens per segment above the last level", c => c.Algorithm.SpoTreeSegment,
            (c, v) => c with { Algorithm = c.Algorithm with { SpoTreeSegment = v } }) with { NotApplicable = OnlyFor(SpoTree.Name) },
        Integer("algorithm", "spo_interval", "5 = every 5th cut point a branch point", c => c.Algorithm.SpoInterval, (c, v) => c with { Algorithm = c.Algorithm with { SpoInterval = v } }) with { NotApplicable = OnlyFor(SpoChain.Name) },
        Integer("algorithm", "spo_continuations", "9 per branch point", c => c.Algorithm.SpoContinuations, (c, v) => c with { Algorithm = c.Algorithm with { SpoContinuations = v } }) with { NotApplicable = OnlyFor(SpoChain.Name) },
        Flag("algorithm", "whiten_advantages", "true", c => c.Algorithm.WhitenAdvantages, (c, v) => c with { Algorithm = c.Algorithm with { WhitenAdvantages = v } }) with { NotApplicable = OnlyForGae },
        LossOption("clip_low", "0.2; dapo 0.2, cispo 1.0", o => o.ClipLow, (o, v) => o with { ClipLow = v }),
        LossOption("clip_high", "0.2; dapo 0.28, cispo 0.28", o => o.ClipHigh, (o, v) => o with { ClipHigh = v }),
        LossOption("dual_clip", "3.0; dapo 10.0", o => o.DualClip, (o, v) => o with { DualClip = v }),
        new("algorithm", "aspo_entropy_split", "true; aspo_paper: off",
            (y, c) => c with { Algorithm = c.Algorithm with { LossOptions = c.Algorithm.LossOptions with { AspoEntropySplit = y.Bool("aspo_entropy_split", c.Algorithm.LossOptions.AspoEntropySplit) } } },
            c => c.Algorithm.LossOptions.AspoEntropySplit) { NotApplicable = LossDoesNotRead("aspo_entropy_split") },
        LossOption("aspo_low_entropy_clip", "0.2", o => o.AspoLowEntropyClip, (o, v) => o with { AspoLowEntropyClip = v }),
        LossOption("aspo_high_entropy_clip", "0.4", o => o.AspoHighEntropyClip, (o, v) => o with { AspoHighEntropyClip = v }),
        LossOption("aspo_entropy_quantile", "0.8", o => o.AspoEntropyQuantile, (o, v) => o with { AspoEntropyQuantile = v }),
        LossOption("entropy_top_ratio", "0.2", o => o.EntropyTopRatio, (o, v) => o with { EntropyTopRatio = v }),
        LossOption("clip_cov_ratio", "2e-4", o => o.ClipCovRatio, (o, v) => o with { ClipCovRatio = v }),
        LossOption("clip_cov_lower_bound", "1.0", o => o.ClipCovLowerBound, (o, v) => o with { ClipCovLowerBound = v }),
        LossOption("clip_cov_upper_bound", "5.0", o => o.ClipCovUpperBound, (o, v) => o with { ClipCovUpperBound = v }),
        LossOption("kl_cov_ratio", "2e-4", o => o.KlCovRatio, (o, v) => o with { KlCovRatio = v }),
        LossOption("kl_cov_coefficient", "0.1", o => o.KlCovCoefficient, (o, v) => o with { KlCovCoefficient = v }),
        Real("algorithm", "dpo_beta", "0.1", c => c.Algorithm.DpoBeta, (c, v) => c with { Algorithm = c.Algorithm with { DpoBeta = v } })
            with { NotApplicable = LossDoesNotRead("dpo_beta") },
        Text("algorithm", "dpo_pairs", "best_worst; all = every higher- vs lower-rewarded pair", c => c.Algorithm.DpoPairs, (c, v) => c with { Algorithm = c.Algorithm with { DpoPairs = v } })
            with { NotApplicable = LossDoesNotRead("dpo_pairs") },
        Text("algorithm", "aggregation", "token-mean", c => c.Algorithm.Aggregation, (c, v) => c with { Algorithm = c.Algorithm with { Aggregation = v } })
            with { NotApplicable = NotForDpo("dpo's loss is a mean over preference pairs") },
        Text("algorithm", "kl_estimator", "k3", c => c.Algorithm.KlEstimator, (c, v) => c with { Algorithm = c.Algorithm with { KlEstimator = v } })
            with { NotApplicable = NotForDpo("dpo is tied to its reference by β (ref_every names the reference)") },
        Real("algorithm", "kl_coef", "0 = off; > 0: KL to the reference policy (ref_every)", c => c.Algorithm.KlCoefficient, (c, v) => c with { Algorithm = c.Algorithm with { KlCoefficient = v } })
            with { NotApplicable = NotForDpo("dpo is tied to its reference by β (ref_every names the reference)") },
        new("algorithm", "ref_every", "0 = the starting checkpoint, frozen; dpo: 1 = the policy that sampled; k: refreshed every k iterations",
            (y, c) => c with { Algorithm = c.Algorithm with { ReferenceEvery = y.Int("ref_every", c.Algorithm.Loss == DpoLoss.Name ? 1 : 0) } },
            c => c.Algorithm.ReferenceEvery) { NotApplicable = c => c.Algorithm.UsesReference ? null : "no reference policy is used: set algorithm.kl_coef > 0 or algorithm.loss dpo" },
        Flag("algorithm", "filter_groups", "false; true: groups with all-equal rewards left out of the update (DAPO)", c => c.Algorithm.FilterGroups,
            (c, v) => c with { Algorithm = c.Algorithm with { FilterGroups = v } }) with { NotApplicable = NotForDpo("groups with all-equal rewards give dpo no pair anyway") },
        Integer("algorithm", "ppo_epochs", "1", c => c.Algorithm.PpoEpochs, (c, v) => c with { Algorithm = c.Algorithm with { PpoEpochs = v } }),
        Integer("algorithm", "mini_batch", "64 sequences per optimizer step; must divide prompts × n", c => c.Algorithm.MiniBatch, (c, v) => c with { Algorithm = c.Algorithm with { MiniBatch = v } }),
        new("algorithm", "micro_batch", "8; must divide mini_batch; auto = the largest that fits the memory plan",
            (y, c) => c with { Algorithm = c.Algorithm with { MicroBatch = y.OptionalString("micro_batch") == "auto" ? 0 : y.Int("micro_batch", c.Algorithm.MicroBatch) } },
            c => c.Algorithm.MicroBatch == 0 ? "auto" : c.Algorithm.MicroBatch),
        new("algorithm", "rollout_correction", "off, token when `rollout.int4`; token, sequence",
            (y, c) => c with { Algorithm = c.Algorithm with { RolloutCorrection = c.Algorithm.RolloutCorrection with
            {
                // int4 rollouts' log-probs differ from the learner's by up to ~3e-2 nats: corrected unless told otherwise
                Level = ParseEnum<RolloutCorrectionLevel>(y, "rollout_correction", y.String("rollout_correction", c.Rollout.Int4 ? "token" : "off")),
            } } },
            c => c.Algorithm.RolloutCorrection.Level.ToString().ToLowerInvariant()) { NotApplicable = NotForDpo(NoImportanceRatio) },
        new("algorithm", "rollout_correction_mode", "truncate; mask",
            (y, c) => c with { Algorithm = c.Algorithm with { RolloutCorrection = c.Algorithm.RolloutCorrection with
            {
                Mode = ParseEnum<RolloutCorrectionMode>(y, "rollout_correction_mode", y.String("rollout_correction_mode", "truncate")),
            } } },
            c => c.Algorithm.RolloutCorrection.Mode.ToString().ToLowerInvariant()) { NotApplicable = NotForDpo(NoImportanceRatio) },
        Real("algorithm", "rollout_correction_threshold", "2.0", c => c.Algorithm.RolloutCorrection.Threshold,
            (c, v) => c with { Algorithm = c.Algorithm with { RolloutCorrection = c.Algorithm.RolloutCorrection with { Threshold = v } } })
            with { NotApplicable = NotForDpo(NoImportanceRatio) },

        Real("optimizer", "lr", "1e-6", c => c.Optimizer.LearningRate, (c, v) => c with { Optimizer = c.Optimizer with { LearningRate = v } }),
        Real("optimizer", "beta1", "0.9", c => c.Optimizer.Beta1, (c, v) => c with { Optimizer = c.Optimizer with { Beta1 = v } }),
        Real("optimizer", "beta2", "0.999", c => c.Optimizer.Beta2, (c, v) => c with { Optimizer = c.Optimizer with { Beta2 = v } }),
        Real("optimizer", "eps", "1e-8", c => c.Optimizer.Epsilon, (c, v) => c with { Optimizer = c.Optimizer with { Epsilon = v } }),
        Real("optimizer", "weight_decay", "0.01", c => c.Optimizer.WeightDecay, (c, v) => c with { Optimizer = c.Optimizer with { WeightDecay = v } }),
        Real("optimizer", "grad_clip", "1.0; 0 = off", c => c.Optimizer.GradClip, (c, v) => c with { Optimizer = c.Optimizer with { GradClip = v } }),
        Text("optimizer", "schedule", "constant; warmup, cosine", c => c.Optimizer.Schedule, (c, v) => c with { Optimizer = c.Optimizer with { Schedule = v } }),
        Integer("optimizer", "warmup_steps", "0", c => c.Optimizer.WarmupSteps, (c, v) => c with { Optimizer = c.Optimizer with { WarmupSteps = v } }),

        Text("learner", "backend", "native; torch = TorchSharp/LibTorch", c => c.Learner.Backend, (c, v) => c with { Learner = c.Learner with { Backend = v } }),
        Text("learner", "device", "cpu; cuda, cuda:N need backend torch and a CUDA build", c => c.Learner.Device, (c, v) => c with { Learner = c.Learner with { Device = v } }),
        Text("learner", "dtype", "fp32; bf16 = bf16 GEMMs, fp32 master weights, log-softmax and optimizer", c => c.Learner.Dtype, (c, v) => c with { Learner = c.Learner with { Dtype = v } }),

        new("eval", "suites", "[]", (y, c) => c with { Eval = c.Eval with { Suites = y.StringList("suites") ?? c.Eval.Suites } },
            c => new RawYaml("[" + string.Join(", ", c.Eval.Suites.Select(s => Scalar(c.Resolve(s)))) + "]")),
        Integer("eval", "every", "0 = only after the last iteration when suites are given", c => c.Eval.Every, (c, v) => c with { Eval = c.Eval with { Every = v } }),
        Integer("eval", "n", "0 = the suite's", c => c.Eval.SamplesPerPrompt, (c, v) => c with { Eval = c.Eval with { SamplesPerPrompt = v } }),
        Integer("eval", "limit", "0 = all", c => c.Eval.Limit, (c, v) => c with { Eval = c.Eval with { Limit = v } }),
        new("eval", "engine", "aspo; genai = ONNX Runtime GenAI", (y, c) => c with { Eval = c.Eval with { Engine = y.String("engine", c.Eval.Engine) } },
            c => new RawYaml(c.Eval.Engine)), // unquoted, as resolved files have always had it

        new("reward", "format", "`{required_tags, bonus, missing_score}`, off",
            (y, c) => c with { Reward = RewardConfig.ReadFormat(c.Reward, y.Section("format")) },
            c => new RawYaml($"{{required_tags: [{string.Join(", ", c.Reward.RequiredTags.Select(Scalar))}], bonus: {Scalar(c.Reward.FormatBonus)}"
                + (c.Reward.FormatMissingScore is { } m ? ", missing_score: " + Scalar(m) : "") + "}")),
        new("reward", "length_penalty", "`{target_tokens, per_token}`, off",
            (y, c) => c with { Reward = RewardConfig.ReadLengthPenalty(c.Reward, y.Section("length_penalty")) },
            c => new RawYaml($"{{target_tokens: {c.Reward.LengthPenaltyTarget}, per_token: {Scalar(c.Reward.LengthPenaltyPerToken)}}}")),
        new("reward", "overlong", "`{max_response_length, buffer, penalty_factor}`, off",
            (y, c) => c with { Reward = RewardConfig.ReadOverlong(c.Reward, y.Section("overlong")) },
            c => new RawYaml($"{{max_response_length: {c.Reward.OverlongMaxLength}, buffer: {c.Reward.OverlongBuffer}, penalty_factor: {Scalar(c.Reward.OverlongPenaltyFactor)}}}")),
    ];

    /// <summary>Every algorithm.loss: the token-level policy losses and the preference loss dpo.</summary>
    public static IReadOnlyList<string> LossNames { get; } = [.. PolicyLosses.Names, DpoLoss.Name];

    /// <summary>The loss options <paramref name="loss"/> reads.</summary>
    public static IReadOnlyList<string> LossOptionKeys(string loss) => loss == DpoLoss.Name ? DpoLoss.OptionKeys : PolicyLosses.OptionKeys(loss);

    /// <summary>"algorithm.key" of every loss option (keys some losses read and others refuse).</summary>
    public static IReadOnlySet<string> LossOptionPaths { get; } =
        LossNames.SelectMany(LossOptionKeys).Select(k => "algorithm." + k).ToHashSet(StringComparer.Ordinal);

    private const string NoImportanceRatio = "dpo has no importance ratio for a rollout correction to reweight";

    /// <summary>The README's configuration table: one row per section, its keys with their defaults.</summary>
    public static string MarkdownTable()
    {
        var b = new StringBuilder("| section | keys (default) |\n| --- | --- |\n");
        foreach (var section in Sections)
            b.Append("| `").Append(section).Append("` | ")
             .Append(string.Join(", ", All.Where(k => k.Section == section).Select(k => $"`{k.Name}` ({k.Default})"))).Append(" |\n");
        return b.ToString();
    }

    /// <summary>A value as the resolved YAML writes it.</summary>
    public static string Scalar(object value) => value switch
    {
        RawYaml raw => raw.Text,
        bool x => x ? "true" : "false",
        double x => x.ToString("R", CultureInfo.InvariantCulture),
        string s => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };

    private static PipelineConfig ReadLoss(YamlSection y, PipelineConfig c)
    {
        var loss = y.String("loss", c.Algorithm.Loss);
        if (!LossNames.Contains(loss))
            throw new ConfigException($"{y.File}: algorithm.loss: unknown policy loss '{loss}'; valid losses: {string.Join(", ", LossNames)}");
        return c with { Algorithm = c.Algorithm with
        {
            Loss = loss, LossOptions = loss == DpoLoss.Name ? new PolicyLossOptions() : PolicyLosses.DefaultOptions(loss),
            // dpo reweights nothing: no rollout correction, whatever the rollout's precision
            RolloutCorrection = loss == DpoLoss.Name ? new RolloutCorrectionOptions() : c.Algorithm.RolloutCorrection,
        } };
    }

    private static string? OnlyForGae(PipelineConfig c) => OnlyFor(Gae.Name)(c);

    private static Func<PipelineConfig, string?> OnlyFor(params string[] advantages) => c =>
        advantages.Contains(c.Algorithm.Advantage) ? null : $"only read with algorithm.advantage {string.Join(" or ", advantages)}; advantage is {c.Algorithm.Advantage}";

    private static Func<PipelineConfig, string?> NotForDpo(string why) => c => c.Algorithm.Loss == DpoLoss.Name ? $"not used by loss dpo: {why}" : null;

    private static Func<PipelineConfig, string?> LossDoesNotRead(string name) => c =>
    {
        var keys = LossOptionKeys(c.Algorithm.Loss);
        return keys.Contains(name) ? null
            : $"not used by loss {c.Algorithm.Loss}, so it would change nothing; {c.Algorithm.Loss} reads {(keys.Count == 0 ? "none of the loss options" : string.Join(", ", keys))}";
    };

    private static ConfigKey LossOption(string name, string @default, Func<PolicyLossOptions, double> get, Func<PolicyLossOptions, double, PolicyLossOptions> set) =>
        new("algorithm", name, @default,
            (y, c) => c with { Algorithm = c.Algorithm with { LossOptions = set(c.Algorithm.LossOptions, y.Double(name, get(c.Algorithm.LossOptions))) } },
            c => get(c.Algorithm.LossOptions)) { NotApplicable = LossDoesNotRead(name) };

    private static ConfigKey Text(string section, string name, string @default, Func<PipelineConfig, string> get, Func<PipelineConfig, string, PipelineConfig> set) =>
        new(section, name, @default, (y, c) => set(c, y.String(name, get(c))), c => get(c));

    private static ConfigKey Integer(string section, string name, string @default, Func<PipelineConfig, int> get, Func<PipelineConfig, int, PipelineConfig> set) =>
        new(section, name, @default, (y, c) => set(c, y.Int(name, get(c))), c => get(c));

    private static ConfigKey Real(string section, string name, string @default, Func<PipelineConfig, double> get, Func<PipelineConfig, double, PipelineConfig> set) =>
        new(section, name, @default, (y, c) => set(c, y.Double(name, get(c))), c => get(c));

    private static ConfigKey Flag(string section, string name, string @default, Func<PipelineConfig, bool> get, Func<PipelineConfig, bool, PipelineConfig> set) =>
        new(section, name, @default, (y, c) => set(c, y.Bool(name, get(c))), c => get(c));

    private static T ParseEnum<T>(YamlSection y, string key, string value) where T : struct, Enum =>
        Enum.TryParse<T>(value, ignoreCase: true, out var parsed) && !int.TryParse(value, out _)
            ? parsed
            : throw new ConfigException($"{y.File}: algorithm.{key}: unknown value '{value}'; valid: {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");
}
