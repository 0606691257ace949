namespace Aspo.Algorithms;

/// <summary>The metric names users know from verl (plus ASPO's and the article's diagnostics). Locked by an approval test.</summary>
public static class MetricNames
{
    public const string PgLoss = "actor/pg_loss";
    public const string PgClipFrac = "actor/pg_clipfrac";
    public const string PgClipFracLower = "actor/pg_clipfrac_lower";
    public const string PgClipFracUpper = "actor/pg_clipfrac_upper";
    public const string NegativePgClipFracDual = "actor/negative_pg_clipfrac_dual";
    public const string PositivePgClipFracDual = "actor/positive_pg_clipfrac_dual";
    public const string PpoKl = "actor/ppo_kl";
    public const string Entropy = "actor/entropy";
    public const string KlLoss = "actor/kl_loss";
    public const string KlCoef = "actor/kl_coef";
    public const string IsWeightPositiveMean = "actor/is_weight_pos_mean";
    public const string IsWeightNegativeMean = "actor/is_weight_neg_mean";
    public const string RolloutIsMean = "rollout_corr/rollout_is_mean";
    public const string RolloutIsMax = "rollout_corr/rollout_is_max";
    public const string RolloutIsMin = "rollout_corr/rollout_is_min";
    public const string RolloutIsFractionHigh = "rollout_corr/rollout_is_ratio_fraction_high";
    public const string RepetitionRatio = "token/repetition_ratio";

    /// <summary>Every name above, in order.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        PgLoss, PgClipFrac, PgClipFracLower, PgClipFracUpper, NegativePgClipFracDual, PositivePgClipFracDual, PpoKl, Entropy,
        KlLoss, KlCoef, IsWeightPositiveMean, IsWeightNegativeMean, RolloutIsMean, RolloutIsMax, RolloutIsMin, RolloutIsFractionHigh,
        RepetitionRatio,
    ];
}
