namespace Aspo.Rewards;

/// <summary>A grader of one data_source over a batch: model and sandbox graders use the whole batch at once.</summary>
public delegate IReadOnlyList<RewardResult> BatchGrader(IReadOnlyList<RewardRequest> batch);
