namespace Aspo.Algorithms;

/// <summary>The scalar loss, its parts and the metrics of one call.</summary>
public sealed record ObjectiveResult(double Loss, double PolicyLoss, double KlLoss, IReadOnlyDictionary<string, double> Metrics);
