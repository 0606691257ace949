namespace Aspo.Algorithms;

/// <summary>Counts that become the loss's metrics (fractions over the selected tokens, or over the tokens of one advantage sign).</summary>
public sealed class LossCounters
{
    private readonly Dictionary<string, (double Numerator, double Denominator)> _fractions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _values = new(StringComparer.Ordinal);

    /// <summary>Adds to a metric that is a fraction numerator/denominator.</summary>
    public void AddFraction(string metric, double numerator, double denominator)
    {
        var (n, d) = _fractions.GetValueOrDefault(metric);
        _fractions[metric] = (n + numerator, d + denominator);
    }

    /// <summary>Sets a metric to a value directly.</summary>
    public void Set(string metric, double value) => _values[metric] = value;

    internal void CopyTo(IDictionary<string, double> metrics)
    {
        foreach (var (name, (n, d)) in _fractions)
            metrics[name] = d > 0 ? n / d : 0;
        foreach (var (name, v) in _values)
            metrics[name] = v;
    }
}
