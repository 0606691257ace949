using Aspo.Data;
using Aspo.Data.Tokenization;
using Aspo.Onnx;
using Aspo.Rewards;

namespace Aspo.Pipeline;

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
