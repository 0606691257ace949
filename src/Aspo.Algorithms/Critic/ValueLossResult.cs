namespace Aspo.Algorithms;

/// <summary>The value loss and verl's critic metrics over the batch's tokens.</summary>
public sealed record ValueLossResult(double Loss, double ClipFraction, double PredictionMean)
{
    public Dictionary<string, double> Metrics() => new(StringComparer.Ordinal)
    {
        ["critic/vf_loss"] = Loss, ["critic/vf_clipfrac"] = ClipFraction, ["critic/vpred_mean"] = PredictionMean,
    };
}
