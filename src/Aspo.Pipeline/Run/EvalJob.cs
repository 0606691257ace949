using Aspo.Data;
using Aspo.Native.Files;
using Aspo.Onnx;
using Aspo.Rewards;

namespace Aspo.Pipeline;

/// <summary>One evaluation job: a named prompt set, how it is sampled, and its graders.</summary>
public sealed record EvalJob(string Name, IReadOnlyList<PromptRecord> Prompts, EvalSettings Settings, RewardRegistry Rewards)
{
    /// <summary>A suite with the run's limit (first N prompts, 0 = all) and samples-per-prompt override (0 = the suite's).</summary>
    public static EvalJob FromSuite(EvalSuite suite, int limit, int samplesPerPrompt, bool requireThinkClose = false)
    {
        var settings = samplesPerPrompt > 0 ? suite.Settings with { SamplesPerPrompt = samplesPerPrompt, Ks = null } : suite.Settings;
        return new EvalJob(suite.Name, suite.WithLimit(limit).LoadPrompts(), settings, RewardRegistry.CreateDefault(suite.RequireThinkClose || requireThinkClose));
    }
}
