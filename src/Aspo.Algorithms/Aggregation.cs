namespace Aspo.Algorithms;

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
