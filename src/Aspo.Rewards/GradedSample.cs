namespace Aspo.Rewards;

/// <summary>
/// One graded sample for evaluation: which prompt it answers (and its sample index, the order maj@k reads), its score,
/// whether it counts as correct, the normalised answer it gave (null: none), its length and whether it hit the limit.
/// </summary>
public readonly record struct GradedSample(string DataSource, string PromptUid, int SampleIndex, double Score, bool Correct, string? Answer,
                                           int ResponseTokens, bool Truncated);
