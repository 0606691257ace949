namespace Aspo.Algorithms;

/// <summary>
/// A policy loss: for each token, its loss L_t and the gradient coefficient g_t = ∂L_t/∂ℓ_t, before aggregation.
/// The <see cref="PolicyObjective"/> applies rollout correction, aggregation weights and the KL term around it.
/// </summary>
public interface IPolicyLoss
{
    string Name { get; }
    PolicyLossOptions Options { get; }

    /// <summary>Whether <see cref="TokenBatch.Entropies"/> must be given.</summary>
    bool NeedsEntropies => false;

    /// <summary>The tokens the loss is computed on: <paramref name="mask"/> starts as the batch mask, which most
    /// losses keep; forking_tokens keeps only the top-entropy ones.</summary>
    void SelectTokens(in TokenBatch batch, Span<float> mask) { }

    /// <summary>
    /// Fills, for every token, ratio[t] = π_θ/π_old as this loss computes it, loss[t] = L_t and grad[t] = ∂L_t/∂ℓ_t
    /// (both 0 where <paramref name="mask"/> is 0), and adds its clip counts to <paramref name="counters"/>.
    /// </summary>
    void TokenTerms(in TokenBatch batch, ReadOnlySpan<float> mask, Span<float> ratio, Span<float> loss, Span<float> grad, LossCounters counters);
}
