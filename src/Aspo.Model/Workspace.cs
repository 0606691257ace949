namespace Aspo.Model;

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

    /// <summary>The workspace in <paramref name="slot"/> when it is large enough for <paramref name="batch"/>, else a
    /// larger one put in its place.</summary>
    public static Workspace For(ref Workspace? slot, ModelConfig c, BatchShape batch, bool forTraining)
    {
        var previous = slot;
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
        var grown = previous is not null;
        slot = previous = same = null;
        // the old buffers (gigabytes at real scale) are collected before the larger ones are allocated: left to the GC,
        // the two sets were resident together and a 0.5B learn stage went out of memory (this happens a few times per run)
        if (grown)
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        return slot = new Workspace(c, batch, forTraining, tokens, probs, length);
    }
}
