namespace Aspo.Rewards;

/// <summary>
/// One response to grade, with everything a grader may read: rule graders use the response and ground truth; a
/// model-based verifier also reads the question; length shaping reads the response length in tokens.
/// </summary>
public sealed record RewardRequest(string DataSource, string Question, string Response, string GroundTruth, int ResponseTokens = 0);
