using Aspo.Algorithms;

namespace Aspo.Pipeline.Config;

/// <summary>algorithm: advantages, the policy loss and its parameters, KL, aggregation and the update schedule.</summary>
public sealed record AlgorithmSection
{
    public string Advantage { get; init; } = "grpo";
    public string Loss { get; init; } = "aspo";
    public PolicyLossOptions LossOptions { get; init; } = PolicyLosses.DefaultOptions("aspo");
    public string Aggregation { get; init; } = "token-mean";
    public string KlEstimator { get; init; } = "k3";
    /// <summary>Weight of the KL term to the run's starting checkpoint (frozen reference; verl's use_kl_loss); 0 = off.</summary>
    public double KlCoefficient { get; init; }
    /// <summary>DAPO's group filter: groups whose rewards are all equal are left out of the update.</summary>
    public bool FilterGroups { get; init; }
    public int PpoEpochs { get; init; } = 1;
    /// <summary>Sequences per optimizer step.</summary>
    public int MiniBatch { get; init; } = 64;
    /// <summary>Sequences per forward/backward (gradients accumulate over a mini-batch's micro-batches); 0 = auto: the
    /// largest divisor of the mini-batch whose memory plan fits (chosen by the learn stage from the rows' lengths).</summary>
    public int MicroBatch { get; init; } = 8;
    /// <summary>gae: the discount γ and the GAE λ (verl's defaults, 1 and 1: A_t = R − V_t with an outcome reward;
    /// with λ = 0.95 and a young critic the early tokens' advantages were mostly critic noise and the default run lost
    /// accuracy, README).</summary>
    public double Gamma { get; init; } = 1.0;
    public double Lambda { get; init; } = 1.0;
    /// <summary>gae: the value loss's weight in the trunk's gradient (vf_coef).</summary>
    public double ValueCoefficient { get; init; } = 0.1;
    /// <summary>gae: cliprange_value, how far a value may move from V_old before the clipped term takes over.</summary>
    public double ValueClipRange { get; init; } = 0.2;
    /// <summary>gae: the value head's own learning rate (it starts at zero; the policy's lr would leave it there).</summary>
    public double ValueLearningRate { get; init; } = 1e-4;
    /// <summary>gae: advantages whitened over the batch's response tokens (verl's masked_whiten).</summary>
    public bool WhitenAdvantages { get; init; } = true;
    /// <summary>spo_tree: children per node below the first level (whose width is rollout.n); 6-6-6 in the reference's GSM8K config.</summary>
    public IReadOnlyList<int> SpoTreeBranching { get; init; } = [6, 6];
    /// <summary>spo_tree: tokens per segment above the last level (30 for GSM8K).</summary>
    public int SpoTreeSegment { get; init; } = 30;
    /// <summary>spo_chain, spo_tree: tokens with π_old below ρ are cut points and the only ones trained.</summary>
    public double SpoRho { get; init; } = 0.9;
    /// <summary>spo_chain: every k-th cut point is a branch point (the reference's cutpoint_interval).</summary>
    public int SpoInterval { get; init; } = 5;
    /// <summary>spo_chain: Monte-Carlo continuations per branch point (N; 9 in the GSM8K config, 4 for MATH).</summary>
    public int SpoContinuations { get; init; } = 9;
    /// <summary>dpo: β, the inverse temperature of the preference logit.</summary>
    public double DpoBeta { get; init; } = 0.1;
    /// <summary>dpo: which pairs each prompt's group yields (best_worst, all).</summary>
    public string DpoPairs { get; init; } = "best_worst";
    /// <summary>
    /// The reference policy of the KL term and of dpo is refreshed every k iterations to the policy that sampled
    /// (1 = always that policy, a moving reference; 0 = never: the starting checkpoint, frozen — the KL term's default).
    /// </summary>
    public int ReferenceEvery { get; init; }

    /// <summary>A reference policy is scored: dpo, or a KL term.</summary>
    public bool UsesReference => Loss == DpoLoss.Name || KlCoefficient > 0;

    /// <summary>The policy version that is the reference in iteration <paramref name="iteration"/> (1-based; policy
    /// i − 1 sampled it): the last multiple of ref_every below it, or 0.</summary>
    public int ReferencePolicy(int iteration) => ReferenceEvery == 0 ? 0 : (iteration - 1) / ReferenceEvery * ReferenceEvery;
    /// <summary>Importance weights π_old/π_rollout when the shards' policy is not the one trained (replay): off, token or sequence level.</summary>
    public RolloutCorrectionOptions RolloutCorrection { get; init; } = new();
}
