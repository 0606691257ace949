namespace Aspo.Model;

/// <summary>
/// The shape of one packed batch: N tokens in B sequences, and the S scored (response) tokens — for each, the row
/// whose logits predict it (the previous position) and its token id.
/// </summary>
internal sealed class BatchShape
{
    public required int Tokens { get; init; }
    public required int Sequences { get; init; }
    public required int[] Offsets { get; init; }      // [B+1]
    public required int[] TokenIds { get; init; }     // [N]
    public required int MaxLength { get; init; }
    public required int[] ScoredRows { get; init; }   // [S]
    public required int[] Targets { get; init; }      // [S]
    public required long[] ProbStarts { get; init; }  // [B]: where sequence b's H·T_b² attention probabilities start
    public required long ProbCount { get; init; }
    public required float InverseTemperature { get; init; }
    public int Scored => Targets.Length;

    public int ProbOffset(int sequence, int head, int heads)
    {
        var t = Offsets[sequence + 1] - Offsets[sequence];
        return checked((int)(ProbStarts[sequence] + (long)head * t * t));
    }

    public static BatchShape Create(ModelConfig config, ReadOnlySpan<int> tokens, ReadOnlySpan<int> offsets, ReadOnlySpan<int> responseStarts, float temperature)
    {
        if (!(temperature > 0) || float.IsInfinity(temperature))
            throw new ArgumentException($"temperature must be a positive number, got {temperature}");
        var b = offsets.Length - 1;
        if (b < 1 || offsets[0] != 0 || offsets[^1] != tokens.Length)
            throw new ArgumentException($"sequence offsets must start at 0 and end at the token count {tokens.Length}");
        if (responseStarts.Length != b)
            throw new ArgumentException($"{b} sequences need {b} response starts, got {responseStarts.Length}");
        for (var t = 0; t < tokens.Length; t++)
            if ((uint)tokens[t] >= (uint)config.VocabSize)
                throw new ArgumentException($"token id {tokens[t]} at position {t} is outside the vocabulary [0, {config.VocabSize})");
        var rows = new List<int>();
        var targets = new List<int>();
        var probStarts = new long[b];
        long probs = 0;
        var maxLength = 0;
        for (var i = 0; i < b; i++)
        {
            int start = offsets[i], length = offsets[i + 1] - start;
            if (length < 1)
                throw new ArgumentException($"sequence {i} is empty");
            if (responseStarts[i] < 1 || responseStarts[i] > length)
                throw new ArgumentException($"sequence {i}: response start {responseStarts[i]} must be in [1, {length}] (the first token has no logits before it)");
            maxLength = Math.Max(maxLength, length);
            probStarts[i] = probs;
            probs += (long)config.NumHeads * length * length;
            for (var t = responseStarts[i]; t < length; t++)
            {
                rows.Add(start + t - 1);
                targets.Add(tokens[start + t]);
            }
        }
        if (probs > Array.MaxLength)
            throw new ArgumentException($"the batch's attention needs {probs:N0} probabilities (heads × Σ length²) in one buffer, more than {Array.MaxLength:N0}: " +
                $"its longest sequence ({maxLength} tokens) is too long for the learner; split it or use a smaller micro-batch");
        return new BatchShape
        {
            Tokens = tokens.Length, Sequences = b, Offsets = offsets.ToArray(), TokenIds = tokens.ToArray(), MaxLength = maxLength,
            ScoredRows = rows.ToArray(), Targets = targets.ToArray(), ProbStarts = probStarts, ProbCount = probs,
            InverseTemperature = 1f / temperature,
        };
    }
}

/// <summary>One layer's saved activations (shapes for N tokens; P holds Σ_b H·T_b² attention probabilities).</summary>
internal sealed class LayerActivations
{
    public LayerActivations(ModelConfig c, int n, long probs)
    {
        int hd = c.NumHeads * c.HeadDim, kvd = c.NumKvHeads * c.HeadDim;
        X1 = new float[n * c.HiddenSize]; Rstd1 = new float[n];
        Q = new float[n * hd]; K = new float[n * kvd]; V = new float[n * kvd];
        if (c.HasQkNorm)
        {
            QLin = new float[n * hd]; KLin = new float[n * kvd]; RstdQ = new float[n * c.NumHeads]; RstdK = new float[n * c.NumKvHeads];
        }
        Probs = new float[checked((int)probs)]; Attn = new float[n * hd];
        HMid = new float[n * c.HiddenSize]; X2 = new float[n * c.HiddenSize]; Rstd2 = new float[n];
        Gate = new float[n * c.IntermediateSize]; Up = new float[n * c.IntermediateSize]; Act = new float[n * c.IntermediateSize];
    }

    public float[] X1, Rstd1, Q, K, V, Probs, Attn, HMid, X2, Rstd2, Gate, Up, Act;
    public float[] QLin = [], KLin = [], RstdQ = [], RstdK = [];
}

/// <summary>
/// Buffers of one forward/backward, allocated for a batch shape and reused while the next batch fits.
/// Training keeps every layer's activations and every residual-stream state; scoring reuses one layer's buffers.
/// </summary>
internal sealed class Workspace
{
    private readonly LayerActivations[] _layers;

    private Workspace(ModelConfig c, BatchShape batch, bool forTraining, int n, long probs, int maxLength)
    {
        int cDim = c.HiddenSize, f = c.IntermediateSize, hd = c.NumHeads * c.HeadDim, kvd = c.NumKvHeads * c.HeadDim;
        Capacity = n;
        ProbCapacity = probs;
        LengthCapacity = maxLength;
        ForTraining = forTraining;
        Batch = batch;
        _layers = Enumerable.Range(0, forTraining ? c.NumLayers : 1).Select(_ => new LayerActivations(c, n, probs)).ToArray();
        Resid = Enumerable.Range(0, forTraining ? c.NumLayers + 1 : 2).Select(_ => new float[n * cDim]).ToArray();
        Xf = new float[n * cDim]; RstdF = new float[n];
        var chunk = Decoder.ChunkRows(c.VocabSize);
        ChunkX = new float[chunk * cDim];
        Logits = new float[(long)chunk * c.VocabSize];
        ChunkLogProbs = new float[chunk];
        ChunkEntropies = new float[chunk];
        RowU = [new float[c.VocabSize], new float[c.VocabSize]];
        RowE = [new float[c.VocabSize], new float[c.VocabSize]];
        if (forTraining)
        {
            ChunkDx = new float[chunk * cDim];
            DResid = new float[n * cDim]; DX = new float[n * cDim];
            DAct = new float[n * f]; DGate = new float[n * f]; DUp = new float[n * f];
            DAttn = new float[n * hd]; DQ = new float[n * hd]; DK = new float[n * kvd]; DV = new float[n * kvd];
            DQLin = c.HasQkNorm ? new float[n * hd] : []; DKLin = c.HasQkNorm ? new float[n * kvd] : [];
            DProbs = new float[maxLength * maxLength];
        }
    }

    public int Capacity { get; }
    public long ProbCapacity { get; }
    public int LengthCapacity { get; }
    public bool ForTraining { get; }
    public BatchShape Batch { get; private set; }

    public float[][] Resid;
    public float[] Xf, RstdF, ChunkX, Logits;
    /// <summary>
    /// First scored row of the chunk whose logits <see cref="Logits"/> still holds from the training forward (−1: none):
    /// the backward starts with that chunk and skips recomputing it.
    /// </summary>
    public int LogitsChunkStart = -1;
    public float[] ChunkLogProbs, ChunkEntropies;
    /// <summary>Scratch rows u, e [V] for each of the two parallel halves of the vocabulary head.</summary>
    public readonly float[][] RowU, RowE;
    public float[] ChunkDx = [], DResid = [], DX = [], DAct = [], DGate = [], DUp = [], DAttn = [], DQ = [], DK = [], DV = [], DQLin = [], DKLin = [], DProbs = [];

    public LayerActivations Layer(int l) => _layers[ForTraining ? l : 0];

    /// <summary>Index into <see cref="Resid"/> of the residual stream entering layer l (l = L: the final state).</summary>
    public int ResidIndex(int l) => ForTraining ? l : l % 2;

    public static Workspace For(Workspace? previous, ModelConfig c, BatchShape batch, bool forTraining)
    {
        if (previous is not null && previous.ForTraining == forTraining && previous.Capacity >= batch.Tokens
            && previous.ProbCapacity >= batch.ProbCount && previous.LengthCapacity >= batch.MaxLength)
        {
            previous.Batch = batch;
            return previous;
        }
        // growing: every capacity at least the previous one's, so micro-batches of mixed shapes (more tokens but fewer
        // attention probabilities, …) settle after a few steps instead of reallocating gigabytes back and forth
        var same = previous is not null && previous.ForTraining == forTraining ? previous : null;
        int tokens = Math.Max(batch.Tokens, same?.Capacity ?? 0), length = Math.Max(batch.MaxLength, same?.LengthCapacity ?? 0);
        var probs = Math.Max(batch.ProbCount, same?.ProbCapacity ?? 0);
        previous = same = null; // the old buffers can go before the new ones are allocated
        return new Workspace(c, batch, forTraining, tokens, probs, length);
    }
}
