namespace Aspo.Model;

/// <summary>Supervised fine-tuning through the same path as RL: mean negative log-likelihood of the scored tokens.</summary>
public static class CrossEntropyObjective
{
    /// <summary>∂(−mean logπ)/∂logπ_t = −1/S for each of the S scored tokens.</summary>
    public static float[] Coefficients(int scoredTokens) => Enumerable.Repeat(-1f / scoredTokens, scoredTokens).ToArray();

    /// <summary>One micro-batch of a batch of <paramref name="batchTokens"/> scored tokens: −1/N for each of its tokens,
    /// so the micro-batches' gradients add up to the gradient of the batch's mean.</summary>
    public static void Coefficients(Span<float> dLogProbs, int batchTokens) => dLogProbs.Fill(-1f / batchTokens);

    /// <summary>−Σ logπ over these tokens (the batch's mean NLL is the sum over its micro-batches ÷ its tokens).</summary>
    public static double NegativeLogLikelihood(ReadOnlySpan<float> logProbs)
    {
        double sum = 0;
        foreach (var x in logProbs)
            sum -= x;
        return sum;
    }

    public static double Loss(ReadOnlySpan<float> logProbs)
    {
        double sum = 0;
        foreach (var x in logProbs)
            sum += x;
        return -sum / logProbs.Length;
    }
}
