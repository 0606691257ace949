using Aspo.Data;
using Aspo.Model;
using Aspo.Pipeline.Config;
using Aspo.Rewards;

namespace Aspo.Pipeline;

/// <summary>
/// What every stage of a run works with: the configuration, the run directory, its metrics and log, and the inputs
/// the configuration names, read and checked once (<see cref="Load"/>) before anything is written.
/// </summary>
public sealed class RunContext : IDisposable
{
    private RunContext(PipelineConfig config, RunLog log, IReadOnlyList<PromptRecord> prompts, IRewardFunction reward, IReadOnlyList<EvalSuite> suites,
        ModelConfig model)
    {
        Config = config;
        Directory = new RunDirectory(config.RunDirectory);
        Metrics = new MetricsLog(Directory);
        Log = log;
        Prompts = prompts;
        Reward = reward;
        Suites = suites;
        Model = model;
    }

    public PipelineConfig Config { get; }
    public RunDirectory Directory { get; }
    public MetricsLog Metrics { get; }
    public RunLog Log { get; }
    /// <summary>The training prompts (data.train).</summary>
    public IReadOnlyList<PromptRecord> Prompts { get; }
    /// <summary>The graders of the prompts' data sources, with the config's reward terms.</summary>
    public IRewardFunction Reward { get; }
    public IReadOnlyList<EvalSuite> Suites { get; }
    /// <summary>The starting model's config.json.</summary>
    public ModelConfig Model { get; }

    /// <summary>
    /// Reads and checks every input the configuration names — the model folder (config.json, tokenizer), the training
    /// prompts and a grader for each of their data sources, the eval suites — without writing anything.
    /// </summary>
    /// <param name="registerRewards">adds graders for more data sources (programs that embed the pipeline)</param>
    public static RunContext Load(PipelineConfig c, TextWriter log, Action<RewardRegistry>? registerRewards = null)
    {
        var modelFolder = c.Resolve(c.Model.Path);
        foreach (var required in new[] { Checkpoint.ConfigFile, "tokenizer.json" })
        {
            if (!File.Exists(Path.Combine(modelFolder, required)))
                throw new ConfigException($"{c.SourceFile}: model.path {modelFolder} has no {required} (expected an HF model folder: config.json, model.safetensors, tokenizer.json)");
        }
        var modelConfig = ModelConfig.Load(Path.Combine(modelFolder, Checkpoint.ConfigFile));
        var tokenizer = Aspo.Data.Tokenization.BpeTokenizer.Load(Path.Combine(modelFolder, "tokenizer.json"));
        var tokenizerVocab = tokenizer.VocabSize;
        if (tokenizerVocab > modelConfig.VocabSize)
            throw new ConfigException($"{modelFolder}: tokenizer.json has {tokenizerVocab} tokens but config.json's vocab_size is {modelConfig.VocabSize}: the tokenizer does not belong to this model");
        var prompts = PromptDataset.Load(c.Resolve(c.Data.Train), new DatasetMapping
        {
            PromptColumn = c.Data.PromptColumn, AnswerColumn = c.Data.AnswerColumn, DefaultDataSource = c.Data.DataSource,
        });
        if (prompts.Count == 0)
            throw new ConfigException($"{c.Resolve(c.Data.Train)}: data.train has no rows");
        var registry = RewardRegistry.CreateDefault(c.Data.RequireThinkClose);
        registerRewards?.Invoke(registry);
        foreach (var source in prompts.Select(p => p.DataSource).Distinct())
            registry.Resolve(source);
        IRewardFunction reward = c.Reward.IsIdentity ? registry : new ShapedReward(registry, c.Reward);
        var suites = c.Eval.Suites.Select(s => EvalSuite.Load(c.Resolve(s))).ToList();
        // prompt + generation must fit the model's context: found now, not in the rollout stage after exports and evals
        var template = c.Model.ChatTemplate is { } name ? ChatTemplate.ByName(name) : ChatTemplate.FromTokenizerConfig(modelFolder);
        var context = modelConfig.MaxPositionEmbeddings;
        CheckContext(c.SourceFile, "rollout.max_new_tokens", c.Rollout.MaxNewTokens, "data.train", prompts, tokenizer, template, context, modelFolder);
        foreach (var suite in suites)
        {
            var job = EvalJob.FromSuite(suite, c.Eval.Limit, c.Eval.SamplesPerPrompt);
            CheckContext(suite.SourceFile, "sampling.max_new_tokens", job.Settings.Sampling.MaxNewTokens, $"suite {suite.Name}", job.Prompts, tokenizer, template, context, modelFolder);
        }
        return new RunContext(c, new RunLog(log), prompts, reward, suites, modelConfig);
    }

    private static void CheckContext(string file, string key, int maxNewTokens, string what, IReadOnlyList<PromptRecord> prompts,
        Aspo.Data.Tokenization.BpeTokenizer tokenizer, ChatTemplate template, int context, string modelFolder)
    {
        var (longest, row) = prompts.Select(p => (Tokens: tokenizer.Encode(template.Render(p.Prompt, addGenerationPrompt: true)).Length, p.Row))
            .MaxBy(x => x.Tokens);
        if (longest + maxNewTokens > context)
            throw new ConfigException($"{file}: {key} = {maxNewTokens} plus the longest prompt of {what} ({longest} tokens, row {row}) exceeds the model's context of " +
                $"{context} tokens (max_position_embeddings in {Path.Combine(modelFolder, Checkpoint.ConfigFile)}); {key} can be at most {Math.Max(0, context - longest)}");
    }

    /// <summary>A replay's context: it learns from another run's shards (rewards included) and reads no prompts,
    /// grades nothing and evaluates nothing; the model is the source run's starting policy.</summary>
    public static RunContext ForReplay(PipelineConfig c, TextWriter log, ModelConfig sourceModel) =>
        new(c, new RunLog(log), [], new RewardRegistry(), [], sourceModel);

    /// <summary>The chat template: the configured one, else the one recognised in <paramref name="folder"/>'s tokenizer_config.json.</summary>
    public ChatTemplate Template(string folder) =>
        Config.Model.ChatTemplate is { } name ? ChatTemplate.ByName(name) : ChatTemplate.FromTokenizerConfig(folder);

    public void RequireIteration(int iteration)
    {
        if (iteration < 1 || iteration > Config.Run.Iterations)
            throw new ArgumentException($"iteration {iteration} is outside the run's 1..{Config.Run.Iterations}");
    }

    private (string Policy, Aspo.Model.LearnerOptions Options, Aspo.Model.ILearner Learner)? _kept;

    /// <summary>
    /// The learner the last learn stage of this process kept, if it holds exactly <paramref name="policyFolder"/> (its
    /// weights and optimizer state are what that folder's files hold) with the same options; the caller owns it. Null
    /// otherwise (a kept learner of another policy is released).
    /// </summary>
    public Aspo.Model.ILearner? TakeLearner(string policyFolder, Aspo.Model.LearnerOptions options)
    {
        var kept = _kept;
        _kept = null;
        if (kept is { } k && k.Policy == policyFolder && k.Options == options)
            return k.Learner;
        kept?.Learner.Dispose();
        return null;
    }

    /// <summary>Keeps <paramref name="learner"/>, which holds what <paramref name="policyFolder"/> was just written from,
    /// for the next learn stage: its slabs stay allocated and warm instead of being loaded and first-touched again.</summary>
    public void KeepLearner(string policyFolder, Aspo.Model.LearnerOptions options, Aspo.Model.ILearner learner)
    {
        _kept?.Learner.Dispose();
        _kept = (policyFolder, options, learner);
    }

    public void Dispose()
    {
        _kept?.Learner.Dispose();
        _kept = null;
        Metrics.Dispose();
    }
}
