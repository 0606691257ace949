namespace Aspo.Rewards;

/// <summary>Grades a batch of responses (one rollout batch) in order; the grader is chosen by each row's data_source.</summary>
public interface IRewardFunction
{
    IReadOnlyList<RewardResult> ScoreBatch(IReadOnlyList<RewardRequest> batch);
}
