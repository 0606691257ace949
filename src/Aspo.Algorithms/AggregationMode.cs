namespace Aspo.Algorithms;

/// <summary>How per-token losses become one scalar (verl <c>loss_agg_mode</c>).</summary>
public enum AggregationMode
{
    /// <summary><c>token-mean</c>: Σ m·L / N_tok, N_tok = valid tokens of the whole optimizer mini-batch.</summary>
    TokenMean,
    /// <summary><c>seq-mean-token-mean</c>: (1/B') Σ_i Σ_t m·L / (|o_i| + 1e-8) — the original GRPO.</summary>
    SeqMeanTokenMean,
    /// <summary><c>seq-mean-token-sum</c>: (1/B') Σ_i Σ_t m·L.</summary>
    SeqMeanTokenSum,
    /// <summary><c>seq-mean-token-sum-norm</c>: Σ m·L / S, S a constant (loss scale factor or padded width) — Dr. GRPO.</summary>
    SeqMeanTokenSumNorm,
}
