namespace Aspo.Rewards;

/// <summary>
/// Evaluation figures of one data_source (or "all"): avg@n, pass@k (unbiased), maj@k (null when the grader extracts
/// no answers, e.g. code), mean response length in tokens and the fraction of responses cut at the token limit.
/// </summary>
public sealed record EvalSummary(string DataSource, int Prompts, int Samples, double AvgAtN, double MeanScore, IReadOnlyList<(int K, double PassAtK)> PassAtK,
                                 int MajK, double? MajAtK, double MeanResponseLength, double TruncationRate);
