namespace Aspo.Rewards;

/// <summary>
/// A reward's verdict on one response: the score and its named components (all logged), and the normalised final
/// answer the grader compared when it has one (what maj@k votes on; null for code and for responses without an answer).
/// </summary>
public sealed record RewardResult(double Score, IReadOnlyDictionary<string, double> Components, string? Answer = null);
