namespace Aspo.Algorithms;

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
