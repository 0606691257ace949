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

/// <summary>
/// The normalisers of an aggregation, fixed for a whole optimizer mini-batch so that splitting it into
/// micro-batches changes nothing: N_tok (valid tokens), B' (sequences with at least one valid token), S.
/// </summary>
public readonly record struct AggregationScale(double TokenCount, double SequenceCount, double SumNormDivisor)
{
    /// <summary>The normalisers of <paramref name="batch"/> alone (when it is the whole mini-batch).</summary>
    /// <param name="lossScaleFactor">S for seq-mean-token-sum-norm; null = the padded width (longest sequence slot count)</param>
    public static AggregationScale Of(ReadOnlySpan<float> mask, ReadOnlySpan<int> sequenceOffsets, double? lossScaleFactor = null)
    {
        double tokens = 0, sequences = 0;
        var width = 0;
        for (var i = 0; i + 1 < sequenceOffsets.Length; i++)
        {
            double valid = 0;
            for (var t = sequenceOffsets[i]; t < sequenceOffsets[i + 1]; t++)
                valid += mask[t];
            tokens += valid;
            if (valid > 0)
                sequences++;
            width = Math.Max(width, sequenceOffsets[i + 1] - sequenceOffsets[i]);
        }
        return new AggregationScale(tokens, sequences, lossScaleFactor ?? width);
    }
}

public static class Aggregation
{
    public static IReadOnlyList<string> Names { get; } = ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm"];

    /// <exception cref="ArgumentException">unknown name; the message lists the valid ones</exception>
    public static AggregationMode Parse(string name) => name switch
    {
        "token-mean" => AggregationMode.TokenMean,
        "seq-mean-token-mean" => AggregationMode.SeqMeanTokenMean,
        "seq-mean-token-sum" => AggregationMode.SeqMeanTokenSum,
        "seq-mean-token-sum-norm" => AggregationMode.SeqMeanTokenSumNorm,
        _ => throw new ArgumentException($"unknown aggregation mode '{name}'; valid modes: {string.Join(", ", Names)}", nameof(name)),
    };

    public static string Name(AggregationMode mode) => Names[(int)mode];

    /// <summary>
    /// weights[t] = ∂(aggregated loss)/∂L_t: the factor each token's loss and gradient is multiplied by
    /// (0 on masked tokens). The aggregated loss is then Σ_t weights[t]·L_t.
    /// </summary>
    public static void TokenWeights(AggregationMode mode, ReadOnlySpan<float> mask, ReadOnlySpan<int> sequenceOffsets,
        AggregationScale scale, Span<double> weights)
    {
        if (weights.Length != mask.Length)
            throw new ArgumentException($"weights has {weights.Length} slots, mask has {mask.Length}", nameof(weights));
        for (var i = 0; i + 1 < sequenceOffsets.Length; i++)
        {
            int start = sequenceOffsets[i], end = sequenceOffsets[i + 1];
            double perToken;
            switch (mode)
            {
                case AggregationMode.TokenMean:
                    perToken = scale.TokenCount > 0 ? 1.0 / scale.TokenCount : 0;
                    break;
                case AggregationMode.SeqMeanTokenMean:
                    double valid = 0;
                    for (var t = start; t < end; t++)
                        valid += mask[t];
                    perToken = valid > 0 && scale.SequenceCount > 0 ? 1.0 / (scale.SequenceCount * (valid + 1e-8)) : 0;
                    break;
                case AggregationMode.SeqMeanTokenSum:
                    perToken = scale.SequenceCount > 0 ? 1.0 / scale.SequenceCount : 0;
                    break;
                case AggregationMode.SeqMeanTokenSumNorm:
                    perToken = scale.SumNormDivisor > 0 ? 1.0 / scale.SumNormDivisor : 0;
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(mode), mode, null);
            }
            for (var t = start; t < end; t++)
                weights[t] = mask[t] * perToken;
        }
    }
}
