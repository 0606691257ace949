using Aspo.Data;
using Aspo.Data.Shards;
using Aspo.Model;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>What one learn stage needs besides the rows: the algorithm, the optimizer and the seed of its shuffles.</summary>
public sealed record LearnSettings
{
    public required AlgorithmSection Algorithm { get; init; }
    public required OptimizerSection Optimizer { get; init; }
    public required ulong Seed { get; init; }
    public required int Iteration { get; init; }
    /// <summary>Optimizer steps of the whole run (the cosine schedule's horizon).</summary>
    public int TotalSteps { get; init; }
    /// <summary>
    /// Replay: the shards come from another policy. π_old is then the learner's own log-probs before the first update
    /// (PPO's old policy = the weights being trained; <see cref="LearnStage.Recompute"/>), and the shard's log-probs
    /// become the rollout log-probs of the configured rollout correction. Null: π_old is the shard's.
    /// </summary>
    public IReadOnlyList<float[]>? LearnerOldLogProbs { get; init; }

    /// <summary>
    /// algorithm.kl_coef &gt; 0: the frozen reference policy's log-probs per row (the run's starting checkpoint, scored
    /// by the learner before the stage), for the KL term. Null when the KL term is off.
    /// </summary>
    public IReadOnlyList<float[]>? ReferenceLogProbs { get; init; }

    /// <summary>Token-level advantages per row (gae, spo_chain), replacing the outcome estimator; null = outcome advantages.</summary>
    public IReadOnlyList<float[]>? TokenAdvantages { get; init; }

    /// <summary>Per row, which response tokens the loss counts (1) or leaves out (0; SPO's probability mask); null = all.</summary>
    public IReadOnlyList<float[]>? TokenMask { get; init; }

    /// <summary>algorithm.advantage gae: the critic (value head, old values, returns); null otherwise.</summary>
    public CriticInputs? Critic { get; init; }
}
