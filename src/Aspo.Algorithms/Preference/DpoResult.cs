namespace Aspo.Algorithms;

/// <summary>DPO over a set of pairs: the mean loss and TRL's reward metrics (means over the pairs).</summary>
public sealed record DpoResult(double Loss, double RewardAccuracy, double RewardMargin, double ChosenReward, double RejectedReward, int Pairs)
{
    /// <summary>The metrics under TRL's names, prefixed dpo/.</summary>
    public Dictionary<string, double> Metrics() => new(StringComparer.Ordinal)
    {
        ["dpo/loss"] = Loss, ["dpo/rewards_accuracies"] = RewardAccuracy, ["dpo/rewards_margins"] = RewardMargin,
        ["dpo/rewards_chosen"] = ChosenReward, ["dpo/rewards_rejected"] = RejectedReward, ["dpo/pairs"] = Pairs,
    };
}
