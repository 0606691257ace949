namespace Aspo.Model;

/// <summary>
/// Fills one micro-batch's coefficients from its scores: ∂L/∂logπ into <paramref name="dLogProbs"/> and, when the step
/// asked for entropy gradients, ∂L/∂H into <paramref name="dEntropies"/> (all [S], S = the micro-batch's scored tokens).
/// L is the whole optimizer step's loss, so each micro-batch's coefficients carry the step's normalisers.
/// </summary>
public delegate void MicroBatchCoefficients(int microBatch, ReadOnlySpan<float> logProbs, ReadOnlySpan<float> entropies,
    Span<float> dLogProbs, Span<float> dEntropies);
