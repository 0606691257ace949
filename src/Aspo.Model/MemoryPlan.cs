namespace Aspo.Model;

/// <summary>
/// The memory a decoder needs, stated in advance from the shapes: parameters, gradients and AdamW moments (one
/// fp32 slab each), and the activations of one training micro-batch of N tokens in sequences of lengths T_b
/// (per layer: 3·N·C + 3·N·F + 2·N·(H+KV)·D + Σ_b H·T_b² floats, plus the residual stream, the backward buffers and
/// one vocabulary chunk of at most <see cref="Decoder.LogitsBudgetBytes"/>).
/// </summary>
public sealed record MemoryPlan(long ParameterBytes, long GradientBytes, long OptimizerBytes, long ActivationBytes)
{
    public long TotalBytes => ParameterBytes + GradientBytes + OptimizerBytes + ActivationBytes;

    public static MemoryPlan Estimate(ModelConfig c, IReadOnlyList<int> sequenceLengths, bool training = true)
    {
        long parameters = new ParameterLayout(c).TotalCount;
        long n = sequenceLengths.Sum(), cDim = c.HiddenSize, f = c.IntermediateSize;
        long hd = (long)c.NumHeads * c.HeadDim, kvd = (long)c.NumKvHeads * c.HeadDim;
        long probs = sequenceLengths.Sum(t => (long)c.NumHeads * t * t);
        long maxT = sequenceLengths.Max();
        long perLayer = n * (3 * cDim + 2)            // X1, HMid, X2; Rstd1, Rstd2
            + n * (2 * hd + 2 * kvd)                  // Q, Attn, K, V
            + (c.HasQkNorm ? n * (hd + kvd + c.NumHeads + c.NumKvHeads) : 0)
            + probs + 3 * n * f;                       // attention probabilities; gate, up, act
        long layers = training ? c.NumLayers : 1;
        long resid = (training ? c.NumLayers + 1 : 2) * n * cDim;
        long chunk = Decoder.ChunkRows(c.VocabSize);
        long head = n * cDim + n + (training ? 2 : 1) * chunk * cDim + chunk * c.VocabSize // Xf, RstdF, chunk x (and dx), logits
            + 4L * c.VocabSize + 2 * chunk;                                                   // row scratch of the two parallel halves, chunk results
        long backward = training
            ? 2 * n * cDim + 3 * n * f + 2 * n * hd + 2 * n * kvd + (c.HasQkNorm ? n * (hd + kvd) : 0) + maxT * maxT
            : 0;
        return new MemoryPlan(4 * parameters, training ? 4 * parameters : 0, training ? 8 * parameters : 0,
            4 * (layers * perLayer + resid + head + backward));
    }

    /// <summary>
    /// The largest divisor of <paramref name="miniBatch"/> whose training plan — for the longest sequences of
    /// <paramref name="sequenceLengths"/> in one micro-batch — fits in <paramref name="budgetBytes"/> (at least 1).
    /// </summary>
    public static int LargestMicroBatch(ModelConfig c, IReadOnlyList<int> sequenceLengths, int miniBatch, long budgetBytes)
    {
        var longest = sequenceLengths.OrderDescending().ToArray();
        for (var m = Math.Min(miniBatch, longest.Length); m > 1; m--)
            if (miniBatch % m == 0 && Estimate(c, longest[..m]).TotalBytes <= budgetBytes)
                return m;
        return 1;
    }

    public override string ToString() => FormattableString.Invariant(
        $"parameters {ParameterBytes / 1e9:F2} GB, gradients {GradientBytes / 1e9:F2} GB, AdamW {OptimizerBytes / 1e9:F2} GB, activations {ActivationBytes / 1e9:F2} GB, total {TotalBytes / 1e9:F2} GB");
}
