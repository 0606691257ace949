namespace Aspo.Model;

/// <summary>Supervised fine-tuning through the same path as RL: mean negative log-likelihood of the scored tokens.</summary>
public static class CrossEntropyObjective
{
    /// <summary>∂(−mean logπ)/∂logπ_t = −1/S for each of the S scored tokens.</summary>
    public static float[] Coefficients(int scoredTokens) => Enumerable.Repeat(-1f / scoredTokens, scoredTokens).ToArray();

    public static double Loss(ReadOnlySpan<float> logProbs)
    {
        double sum = 0;
        foreach (var x in logProbs)
            sum += x;
        return -sum / logProbs.Length;
    }
}
