namespace Aspo.Model;

/// <summary>
/// log_softmax(z/T)[token] over the full vocabulary and the entropy of softmax(z/T), accumulated in double: the plain
/// form of the formula that <see cref="SoftmaxRow"/> (the one kernel every path uses) is tested against.
/// </summary>
internal static class LogSoftmax
{
    /// <param name="logits">z, one row [V]</param>
    /// <param name="inverseTemperature">1/T</param>
    public static (float LogProb, float Entropy) Exact(ReadOnlySpan<float> logits, int token, double inverseTemperature)
    {
        var max = float.NegativeInfinity;
        foreach (var z in logits)
            max = Math.Max(max, z);
        double sum = 0, weighted = 0;
        foreach (var z in logits)
        {
            var u = (z - max) * inverseTemperature;
            var e = Math.Exp(u);
            sum += e;
            weighted += e * u;
        }
        var logSum = Math.Log(sum);
        return ((float)((logits[token] - max) * inverseTemperature - logSum), (float)(logSum - weighted / sum));
    }
}
