using Aspo.Algorithms;
using Aspo.Data.Shards;
using Aspo.Model;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>
/// What the configured method adds to a learn stage beyond the shard rows: SPO's token advantages and probability
/// masks (spo_chain from the continuation rows, spo_tree from the tree's nodes, which become the training rows in
/// their contexts), or the critic's inputs (gae, from V_old of the π_old recompute). Outcome estimators and dpo add
/// nothing here. Metrics are the ones each method logs per iteration.
/// </summary>
public sealed class MethodInputs
{
    /// <summary>The rows the learner trains on (the samples; spo_tree: every node in its context).</summary>
    public required List<RolloutRow> Rows { get; init; }
    public IReadOnlyList<float[]>? TokenAdvantages { get; private set; }
    public IReadOnlyList<float[]>? TokenMask { get; private init; }
    public CriticInputs? Critic { get; private set; }
    public Dictionary<string, double> Metrics { get; } = new(StringComparer.Ordinal);

    /// <summary>Before the recompute: SPO's advantages and masks (they need only the rollout's log-probs and rewards).</summary>
    public static MethodInputs Prepare(AlgorithmSection a, List<RolloutRow> rows, IReadOnlyList<RolloutRow> continuations)
    {
        if (a.Advantage == SpoTree.Name)
        {
            var (nodes, advantages, mask) = LearnStage.SpoTreeRows(rows, a.SpoRho);
            var tree = new MethodInputs { Rows = nodes, TokenAdvantages = advantages, TokenMask = mask };
            var trained = Sum(mask);
            double sampled = nodes.Sum(r => r.ResponseTokenIds.Length);
            tree.Metrics["spo/trained_token_fraction"] = trained / Math.Max(1, sampled);
            tree.Metrics["spo/sampled_tokens_per_trained_token"] = sampled / Math.Max(trained, 1);
            return tree;
        }
        if (a.Advantage == SpoChain.Name)
        {
            var (advantages, mask) = LearnStage.SpoChainAdvantages(rows, continuations, a.SpoRho, a.SpoInterval);
            var chain = new MethodInputs { Rows = rows, TokenAdvantages = advantages, TokenMask = mask };
            var trained = Sum(mask);
            chain.Metrics["spo/trained_token_fraction"] = trained / Math.Max(1, rows.Sum(r => r.ResponseTokenIds.Length));
            chain.Metrics["spo/continuation_tokens_per_trained_token"] = continuations.Sum(r => (double)r.ResponseTokenIds.Length) / Math.Max(trained, 1);
            return chain;
        }
        return new MethodInputs { Rows = rows };
    }

    /// <summary>gae, after the recompute gave V_old: GAE's advantages (whitened) and returns, and the critic's settings.</summary>
    public void AddCritic(AlgorithmSection a, ValueHead head, IReadOnlyList<float[]> oldValues)
    {
        var (advantages, returns) = LearnStage.GaeAdvantages(Rows, oldValues, a.Gamma, a.Lambda, a.WhitenAdvantages);
        TokenAdvantages = advantages;
        Critic = new CriticInputs(head, oldValues, returns)
        {
            ValueCoefficient = a.ValueCoefficient, ClipRange = a.ValueClipRange, LearningRate = a.ValueLearningRate,
        };
        float[] values = [.. oldValues.SelectMany(v => v)], targets = [.. returns.SelectMany(r => r)];
        if (values.Length >= 2)
            Metrics["critic/vf_explained_var"] = ValueLoss.ExplainedVariance(values, targets);
        Metrics["critic/values/mean"] = values.Length > 0 ? values.Average() : 0;
        Metrics["critic/returns/mean"] = targets.Length > 0 ? targets.Average() : 0;
    }

    /// <summary>Σ of every mask entry, in double (a float sum drifts at these counts).</summary>
    private static double Sum(IReadOnlyList<float[]> mask) => mask.Sum(m => m.Sum(x => (double)x));
}
