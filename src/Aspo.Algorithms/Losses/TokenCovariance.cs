namespace Aspo.Algorithms.Losses;

/// <summary>Cov_t = (ℓ_t − mean ℓ)·(A_t − mean A) over the selected tokens (ℓ detached): the token's contribution
/// to the entropy change (Cui et al. 2025, "The Entropy Mechanism of RL for Reasoning LMs").</summary>
internal static class TokenCovariance
{
    public static void Compute(in TokenBatch batch, ReadOnlySpan<float> mask, Span<double> covariance, out int validTokens)
    {
        double sumL = 0, sumA = 0, n = 0;
        for (var t = 0; t < mask.Length; t++)
            if (mask[t] != 0)
            {
                sumL += batch.LogProbs[t];
                sumA += batch.Advantages[t];
                n++;
            }
        validTokens = (int)n;
        double meanL = n > 0 ? sumL / n : 0, meanA = n > 0 ? sumA / n : 0;
        for (var t = 0; t < mask.Length; t++)
            covariance[t] = mask[t] != 0 ? (batch.LogProbs[t] - meanL) * (batch.Advantages[t] - meanA) : double.NaN;
    }
}
