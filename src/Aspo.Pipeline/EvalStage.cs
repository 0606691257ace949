using Aspo.Data;
using Aspo.Data.Shards;
using Aspo.Data.Tokenization;
using Aspo.Onnx;
using Aspo.Rewards;

namespace Aspo.Pipeline;

/// <summary>How an evaluation samples: n answers per prompt (avg@n, pass@k for k ≤ n), the sampling and the seed.</summary>
public sealed record EvalSettings
{
    public int SamplesPerPrompt { get; init; } = 4;
    /// <summary>Reasoning-model evaluation defaults (temperature 0.6, top-p 0.95); greedy evaluation is temperature 0 with n = 1.</summary>
    public SamplingParams Sampling { get; init; } = new() { Temperature = 0.6f, TopP = 0.95f, MaxNewTokens = 1024 };
    public ulong Seed { get; init; } = 1;
    public int BatchSize { get; init; } = 64;
    /// <summary>The k of pass@k; null = 1, 2, 4, … and n.</summary>
    public IReadOnlyList<int>? Ks { get; init; }

    /// <summary>The k of pass@k in effect.</summary>
    public IReadOnlyList<int> PassAtKs => Ks ?? EvalMetrics.DefaultKs(SamplesPerPrompt);

    /// <summary>Checks every setting; callers run it before loading anything so bad settings cost nothing.</summary>
    public void Validate()
    {
        if (SamplesPerPrompt < 1)
            throw new ArgumentException($"samples per prompt must be at least 1, got {SamplesPerPrompt}");
        if (BatchSize < 1)
            throw new ArgumentException($"batch size must be at least 1, got {BatchSize}");
        Sampling.Validate();
        if (PassAtKs.Count == 0 || PassAtKs.Any(k => k < 1 || k > SamplesPerPrompt))
            throw new ArgumentException($"every k of pass@k must be in [1, n = {SamplesPerPrompt}], got {string.Join(", ", PassAtKs)}");
    }
}

/// <summary>Every sampled row (graded) and the summaries per data_source and overall.</summary>
public sealed record EvalResult(IReadOnlyList<RolloutRow> Rows, IReadOnlyList<EvalSummary> Summaries);

/// <summary>
/// Evaluates an exported checkpoint on a prompt set: n samples per prompt through the rollout stage, graded by the reward
/// registry, summarised as avg@n and pass@k. Every prompt's data_source is resolved before any sampling, so a missing
/// reward fails at once instead of after the compute.
/// </summary>
public static class EvalStage
{
    /// <param name="genAi">ONNX Runtime GenAI as the engine, or null for ours</param>
    public static EvalResult Run(OnnxDecoder model, BpeTokenizer tokenizer, ChatTemplate template, RewardRegistry rewards,
                                 IReadOnlyList<PromptRecord> prompts, EvalSettings settings, GenAiEngine? genAi = null)
    {
        if (prompts.Count == 0)
            throw new ArgumentException("no prompts to evaluate");
        settings.Validate();
        foreach (var source in prompts.Select(p => p.DataSource).Distinct())
            rewards.Resolve(source);
        // the prompt uid is data_source#row: two files of one data_source would merge their prompts
        var duplicate = prompts.GroupBy(RolloutStage.PromptUid).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"prompt uid {duplicate.Key} occurs {duplicate.Count()} times: give each dataset its own data_source");
        if (genAi is not null)
            GenAiEngine.CheckSupported(settings.Sampling, model.EosTokenIds);
        var graded = new RolloutStage(model, tokenizer, template, rewards, genAi).RunGraded(prompts, new RolloutSettings
        {
            RunId = "eval", Iteration = 0, PolicyVersion = 0, MasterSeed = settings.Seed,
            SamplesPerPrompt = settings.SamplesPerPrompt, BatchSize = settings.BatchSize, Sampling = settings.Sampling,
        });
        var samples = graded.Select(g => new GradedSample(g.Row.DataSource, g.Row.PromptUid, g.Row.SampleIndex, g.Verdict.Score,
            EvalMetrics.IsCorrect(g.Verdict), g.Verdict.Answer, g.Row.ResponseTokenIds.Length, g.Row.FinishReason == "length"));
        return new EvalResult([.. graded.Select(g => g.Row)], EvalMetrics.Summarize(samples, settings.PassAtKs));
    }
}
