using Aspo.Model;
using static TorchSharp.torch;

namespace Aspo.Torch;

/// <summary>
/// The decoder (Llama / Qwen2 / Qwen3 exactly as <see cref="Decoder"/> and Hugging Face define them) on LibTorch, with
/// autograd for the backward. All parameters live in one fp32 tensor <see cref="Flat"/> [P] in <see cref="ParameterLayout"/>
/// order — the native learner's slab — and their gradients in one more, <see cref="Gradient"/> [P]. Each weight is a
/// view of <see cref="Flat"/> made a leaf of its own whose <c>grad</c> is the matching view of <see cref="Gradient"/>,
/// so autograd accumulates in place into the slab. (Views that carry autograd history back to one [P] leaf would cost
/// a P-sized zero-fill and add per weight in every backward.) Checkpoints and optimizer state are the native files.
/// Shapes: N packed tokens in B sequences (padded to T_max for attention), S scored tokens, C hidden, H/KV heads, D head
/// dim, F intermediate, V vocabulary.
/// </summary>
internal sealed class TorchDecoder : IDisposable
{
    private readonly Device _device;
    private readonly ScalarType _gemmType;
    private Tensor _ropeCos = null!, _ropeSin = null!; // [positions, D/2]
    private int _ropePositions;

    private TrainingGraph? _graph;   // kept from a training Score until Backward
    private float _inverseTemperature;

    public TorchDecoder(ModelConfig config, float[] parameters, Device device, LearnerPrecision precision)
    {
        Config = config;
        Layout = new ParameterLayout(config);
        if (parameters.LongLength != Layout.TotalCount)
            throw new ArgumentException($"parameter slab has {parameters.LongLength} floats, the layout needs {Layout.TotalCount}");
        _device = device;
        _gemmType = precision == LearnerPrecision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
        using (no_grad())
        {
            using var host = from_array(parameters); // pins the caller's array for the copy, no managed clone
            Flat = empty([parameters.LongLength], ScalarType.Float32, device).copy_(host).DetachFromDisposeScope();
            Gradient = zeros_like(Flat).DetachFromDisposeScope();
            foreach (var t in Layout.Tensors)
            {
                if (_weights.ContainsKey(t.Offset))
                    continue; // a tied lm_head is the embedding
                var weight = Flat.narrow(0, t.Offset, t.Count).view(t.Shape).requires_grad_(true).DetachFromDisposeScope();
                weight.grad = Gradient.narrow(0, t.Offset, t.Count).view(t.Shape);
                _weights[t.Offset] = weight;
            }
        }
    }

    private readonly Dictionary<long, Tensor> _weights = [];

    public ModelConfig Config { get; }
    public ParameterLayout Layout { get; }

    /// <summary>Every parameter, [P] fp32 (the optimizer updates it in place).</summary>
    public Tensor Flat { get; }

    /// <summary>Every parameter's gradient, [P] fp32, accumulated by autograd through the weights' <c>grad</c> views.</summary>
    public Tensor Gradient { get; }

    /// <summary>The weight at slab <paramref name="offset"/>: a leaf view of <see cref="Flat"/> with <paramref name="shape"/>.</summary>
    private Tensor W(long offset, params long[] shape)
    {
        var weight = _weights[offset];
        if (!weight.shape.SequenceEqual(shape))
            throw new InvalidOperationException($"weight at {offset} has shape [{string.Join(", ", weight.shape)}], expected [{string.Join(", ", shape)}]");
        return weight;
    }

    /// <summary>
    /// Scores the response tokens: log π = log_softmax(z/T)[token] and H = entropy of softmax(z/T), fp32, vocabulary
    /// logits one chunk of rows at a time. With <paramref name="forTraining"/> the autograd graph from the embedded
    /// tokens to the final hidden states is kept for <see cref="Backward"/>.
    /// </summary>
    public void Score(PackedSequences batch, float temperature, Span<float> logProbs, Span<float> entropies, bool forTraining)
    {
        if (!(temperature > 0) || float.IsInfinity(temperature))
            throw new ArgumentException($"temperature must be a positive number, got {temperature}");
        var shape = HostBatch.Create(Config, batch);
        if (logProbs.Length != shape.Scored || (entropies.Length != 0 && entropies.Length != shape.Scored))
            throw new ArgumentException($"the batch scores {shape.Scored} tokens; logProbs has {logProbs.Length} slots, entropies {entropies.Length}");
        ReleaseGraph();
        EnsureRope(shape.MaxLength);
        _inverseTemperature = 1f / temperature;
        using var scope = NewDisposeScope();
        var tokens = tensor(shape.Tokens, [shape.Tokens.LongLength], ScalarType.Int64).to(_device);
        Tensor embedded, scored;
        using (no_grad())
            embedded = W(Layout.Embedding, Config.VocabSize, Config.HiddenSize).index_select(0, tokens); // [N, C]
        using (forTraining ? enable_grad() : no_grad())
        {
            if (forTraining)
                embedded.requires_grad_(true); // a leaf: its gradient goes into the embedding rows in place (Backward)
            scored = Trunk(shape, embedded);
        }
        var targets = tensor(shape.Targets, [shape.Scored, 1L], ScalarType.Int64).to(_device);
        var (lp, h) = Head(scored, targets);
        CopyToHost(lp, logProbs);
        if (entropies.Length != 0)
            CopyToHost(h, entropies);
        if (forTraining)
            _graph = new TrainingGraph(scored.MoveToOuterDisposeScope(), embedded.MoveToOuterDisposeScope(), tokens.MoveToOuterDisposeScope(),
                targets.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Backward of Σ c·logπ + Σ e·H for the last training <see cref="Score"/>. The vocabulary head's backward is written
    /// out, one chunk of rows at a time (so [S × V] logits never exist whole): with p = softmax(z/T),
    /// ∂L/∂z = (c·(onehot(token) − p) − e·p·(log p + H)) / T; its [V, C] weight gradient is added in place into the
    /// gradient slab (autograd would allocate a fresh [V, C] tensor per chunk). The gradient with respect to the final
    /// hidden states then runs back through the kept graph with autograd, and the embedded tokens' gradient is added
    /// into the embedding rows in place.
    /// </summary>
    public void Backward(ReadOnlySpan<float> dLogProbs, ReadOnlySpan<float> dEntropies)
    {
        var graph = _graph ?? throw new InvalidOperationException("Backward needs a training Score first");
        var s = graph.ScoredHidden.shape[0];
        if (dLogProbs.Length != s || (dEntropies.Length != 0 && dEntropies.Length != s))
            throw new ArgumentException($"the batch scored {s} tokens; dLogProbs has {dLogProbs.Length}, dEntropies {dEntropies.Length}");
        long v = Config.VocabSize, c = Config.HiddenSize;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var cLp = tensor(dLogProbs.ToArray(), [s, 1L], ScalarType.Float32).to(_device);
            var cH = dEntropies.Length == 0 ? null : tensor(dEntropies.ToArray(), [s, 1L], ScalarType.Float32).to(_device);
            var head = W(Layout.LmHead, v, c);
            var headGradient = Gradient.narrow(0, Layout.LmHead, v * c).view(v, c);
            var hidden = graph.ScoredHidden.detach();
            var hiddenGradient = zeros([s, c], ScalarType.Float32, _device); // [S, C]
            var chunk = Decoder.ChunkRows(Config.VocabSize);
            for (long s0 = 0; s0 < s; s0 += chunk)
            {
                using var chunkScope = NewDisposeScope();
                var rows = Math.Min(chunk, s - s0);
                var x = hidden.narrow(0, s0, rows);
                // two [rows, V] buffers, updated in place: log p, then p turned into ∂L/∂z
                var logp = x.matmul(head.t()).mul_(_inverseTemperature);
                logp.sub_(logp.logsumexp(-1, keepdim: true));
                var dz = logp.exp();
                var coefficient = cLp.narrow(0, s0, rows);
                if (cH is null)
                    dz.mul_(coefficient.neg());
                else
                {
                    // −e·p·(log p + H) − c·p, with H = −Σ p·log p
                    var entropy = RowDot(dz, logp).neg_().unsqueeze(1); // [rows, 1]
                    dz.mul_(logp.add_(entropy).mul_(cH.narrow(0, s0, rows)).add_(coefficient).neg_());
                }
                dz.scatter_add_(1, graph.Targets.narrow(0, s0, rows), coefficient);
                dz.mul_(_inverseTemperature);
                hiddenGradient.narrow(0, s0, rows).addmm_(dz, head);
                headGradient.addmm_(dz.t(), x);
            }
            using (enable_grad())
                graph.ScoredHidden.backward([hiddenGradient]);
            using var embeddedGradient = graph.Embedded.grad!; // a new handle per access: disposed here
            Gradient.narrow(0, Layout.Embedding, v * c).view(v, c).index_add_(0, graph.Tokens, embeddedGradient, 1.0);
        }
        ReleaseGraph();
    }

    public void ReleaseGraph()
    {
        _graph?.Dispose();
        _graph = null;
    }

    /// <summary>What a training Score keeps for Backward: the scored rows' final hidden states [S, C] with their graph,
    /// the embedded tokens [N, C] (the graph's leaf), the token ids [N] and the targets [S, 1].</summary>
    private sealed record TrainingGraph(Tensor ScoredHidden, Tensor Embedded, Tensor Tokens, Tensor Targets) : IDisposable
    {
        public void Dispose()
        {
            ScoredHidden.Dispose();
            Embedded.Dispose();
            Tokens.Dispose();
            Targets.Dispose();
        }
    }

    /// <summary>Layers → final norm from the embedded tokens <paramref name="x"/> [N, C]; returns the final hidden states of
    /// the rows that predict scored tokens [S, C].</summary>
    private Tensor Trunk(HostBatch b, Tensor x)
    {
        var c = Config;
        var positions = tensor(b.Positions, [b.Positions.LongLength], ScalarType.Int64).to(_device);
        var padIndex = tensor(b.PaddedIndex, [b.PaddedIndex.LongLength], ScalarType.Int64).to(_device);
        var mask = tensor(b.AttentionBias, [b.Sequences, 1L, b.MaxLength, b.MaxLength], ScalarType.Float32).to(_device);
        var cos = _ropeCos.index_select(0, positions).unsqueeze(1); // [N, 1, D/2]
        var sin = _ropeSin.index_select(0, positions).unsqueeze(1);
        for (var l = 0; l < c.NumLayers; l++)
            x = Layer(l, x, b, cos, sin, padIndex, mask);
        x = RmsNorm(x, W(Layout.FinalNorm, c.HiddenSize));
        var scoredRows = tensor(b.ScoredRows, [b.ScoredRows.LongLength], ScalarType.Int64).to(_device);
        return x.index_select(0, scoredRows);
    }

    private Tensor Layer(int l, Tensor x, HostBatch b, Tensor cos, Tensor sin, Tensor padIndex, Tensor mask)
    {
        var c = Config;
        var L = Layout.Layers[l];
        long n = b.Tokens.LongLength, C = c.HiddenSize, D = c.HeadDim, H = c.NumHeads, KV = c.NumKvHeads, F = c.IntermediateSize;
        var h = RmsNorm(x, W(L.InputNorm, C));
        var q = Linear(h, L.Wq, L.Bq, H * D, C).view(n, H, D);
        var k = Linear(h, L.Wk, L.Bk, KV * D, C).view(n, KV, D);
        var v = Linear(h, L.Wv, L.Bv, KV * D, C).view(n, KV, D);
        if (c.HasQkNorm)
        {
            q = RmsNorm(q, W(L.QNorm, D));
            k = RmsNorm(k, W(L.KNorm, D));
        }
        q = Rope(q, cos, sin);
        k = Rope(k, cos, sin);
        var attention = Attention(q, k, v, b, padIndex, mask); // [N, H·D]
        x = x + Linear(attention, L.Wo, L.Bo, C, H * D);
        var h2 = RmsNorm(x, W(L.PostNorm, C));
        var gate = Linear(h2, L.WGate, -1, F, C);
        var up = Linear(h2, L.WUp, -1, F, C);
        return x + Linear(nn.functional.silu(gate) * up, L.WDown, -1, C, F);
    }

    /// <summary>y [N, out] = x [N, in]·Wᵀ (+ b); in bf16 mode the product runs in bf16 on casts of the fp32 master
    /// weights (autocast style) and the result returns to fp32.</summary>
    private Tensor Linear(Tensor x, long weight, long bias, long outDim, long inDim)
    {
        var w = W(weight, outDim, inDim);
        var b = bias >= 0 ? W(bias, outDim) : null;
        if (_gemmType == ScalarType.Float32)
            return nn.functional.linear(x, w, b);
        return nn.functional.linear(x.to(_gemmType), w.to(_gemmType), b?.to(_gemmType)).to(ScalarType.Float32);
    }

    /// <summary>Hugging Face's RMSNorm: x·rsqrt(mean(x²) + ε)·w over the last dimension, fp32.</summary>
    private Tensor RmsNorm(Tensor x, Tensor weight) =>
        x * (x.pow(2).mean([-1L], keepdim: true) + Config.RmsNormEps).rsqrt() * weight;

    /// <summary>Rotate-half RoPE on [N, heads, D] with cos/sin [N, 1, D/2] of each token's position.</summary>
    private static Tensor Rope(Tensor x, Tensor cos, Tensor sin)
    {
        var half = x.shape[^1] / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        return cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1);
    }

    /// <summary>
    /// Causal attention within each packed sequence: q/k/v scattered into a [B, heads, T_max, D] block (query head h reads
    /// kv head h / (H/KV)), softmax(q·kᵀ/√D + bias)·v with the bias −∞ above the diagonal and on padding, gathered back to [N, H·D].
    /// </summary>
    private Tensor Attention(Tensor q, Tensor k, Tensor v, HostBatch b, Tensor padIndex, Tensor mask)
    {
        var c = Config;
        long B = b.Sequences, T = b.MaxLength, H = c.NumHeads, KV = c.NumKvHeads, D = c.HeadDim;
        Tensor Pad(Tensor t, long heads) =>
            zeros([B * T, heads, D], t.dtype, _device).index_copy(0, padIndex, t).view(B, T, heads, D).transpose(1, 2);
        var qp = Pad(q, H);
        var kp = Pad(k, KV).repeat_interleave(H / KV, 1);
        var vp = Pad(v, KV).repeat_interleave(H / KV, 1);
        var scores = qp.matmul(kp.transpose(-2, -1)) * (1.0 / Math.Sqrt(D)) + mask;
        var output = scores.softmax(-1).matmul(vp); // [B, H, T, D]
        return output.transpose(1, 2).reshape(B * T, H * D).index_select(0, padIndex);
    }

    /// <summary>Log-probs and entropies [S] of the scored rows, chunk by chunk, without a graph.</summary>
    private (Tensor LogProbs, Tensor Entropies) Head(Tensor hidden, Tensor targets)
    {
        using var _ = no_grad();
        var s = hidden.shape[0];
        var chunk = Decoder.ChunkRows(Config.VocabSize);
        var lps = new List<Tensor>();
        var hs = new List<Tensor>();
        for (long s0 = 0; s0 < s; s0 += chunk)
        {
            var rows = Math.Min(chunk, s - s0);
            var (lp, h) = HeadChunk(hidden.narrow(0, s0, rows), targets.narrow(0, s0, rows));
            lps.Add(lp);
            hs.Add(h);
        }
        return lps.Count == 1 ? (lps[0], hs[0]) : (cat(lps, 0), cat(hs, 0));
    }

    /// <summary>z = x·lm_headᵀ / T in fp32, log p = z − logsumexp(z) in place; the targets' log-probs [rows] and the
    /// entropies −Σ p·log p [rows] (every term of one sign: no cancellation on peaked distributions), with one [rows, V]
    /// temporary besides the logits.</summary>
    private (Tensor LogProbs, Tensor Entropies) HeadChunk(Tensor x, Tensor targets)
    {
        var logp = x.matmul(W(Layout.LmHead, Config.VocabSize, Config.HiddenSize).t()).mul_(_inverseTemperature);
        logp.sub_(logp.logsumexp(-1, keepdim: true));
        return (logp.gather(1, targets).squeeze(1), RowDot(logp.exp(), logp).neg_());
    }

    /// <summary>Σ_j a[i, j]·b[i, j] for each row i [rows], as a batched [1, V]·[V, 1] product (no [rows, V] temporary).</summary>
    private static Tensor RowDot(Tensor a, Tensor b) => a.unsqueeze(1).bmm(b.unsqueeze(2)).view(a.shape[0]);

    private static void CopyToHost(Tensor values, Span<float> destination)
    {
        using var host = values.to(ScalarType.Float32).cpu().contiguous();
        var buffer = new float[destination.Length];
        host.data<float>().CopyTo(buffer);
        buffer.CopyTo(destination);
    }

    /// <summary>cos/sin [positions, D/2] of p·inv_freq (fp32 angles, llama3 scaling when configured), as the native learner computes them.</summary>
    private void EnsureRope(int positions)
    {
        if (positions <= _ropePositions)
            return;
        var half = Config.HeadDim / 2;
        var invFreq = Decoder.RopeInverseFrequencies(Config);
        var cos = new float[positions * half];
        var sin = new float[positions * half];
        for (var p = 0; p < positions; p++)
            for (var j = 0; j < half; j++)
            {
                var angle = p * invFreq[j];
                cos[p * half + j] = MathF.Cos(angle);
                sin[p * half + j] = MathF.Sin(angle);
            }
        _ropeCos?.Dispose();
        _ropeSin?.Dispose();
        _ropeCos = tensor(cos, [positions, half], ScalarType.Float32).to(_device).DetachFromDisposeScope();
        _ropeSin = tensor(sin, [positions, half], ScalarType.Float32).to(_device).DetachFromDisposeScope();
        _ropePositions = positions;
    }

    public void Dispose()
    {
        ReleaseGraph();
        _ropeCos?.Dispose();
        _ropeSin?.Dispose();
        foreach (var weight in _weights.Values)
            weight.Dispose();
        Gradient.Dispose();
        Flat.Dispose();
    }

    /// <summary>The host-side index arrays of one packed batch, built once and moved to the device once.</summary>
    private sealed class HostBatch
    {
        public required long[] Tokens { get; init; }        // [N]
        public required long[] Positions { get; init; }     // [N], restarting at 0 in each sequence
        public required long[] PaddedIndex { get; init; }   // [N]: row b·T_max + t of packed token (b, t)
        public required float[] AttentionBias { get; init; } // [B, 1, T_max, T_max]: 0 where key ≤ query and key < length, −∞ elsewhere
        public required long[] ScoredRows { get; init; }    // [S]: the row whose logits predict each scored token
        public required long[] Targets { get; init; }       // [S]
        public required int Sequences { get; init; }
        public required int MaxLength { get; init; }
        public int Scored => Targets.Length;

        public static HostBatch Create(ModelConfig config, PackedSequences batch)
        {
            var offsets = batch.Offsets;
            var b = offsets.Length - 1;
            var n = batch.Tokens.Length;
            if (b < 1 || offsets[0] != 0 || offsets[^1] != n)
                throw new ArgumentException($"sequence offsets must start at 0 and end at the token count {n}");
            if (batch.ResponseStarts.Length != b)
                throw new ArgumentException($"{b} sequences need {b} response starts, got {batch.ResponseStarts.Length}");
            var maxLength = 0;
            for (var i = 0; i < b; i++)
            {
                var length = offsets[i + 1] - offsets[i];
                if (length < 1)
                    throw new ArgumentException($"sequence {i} is empty");
                if (batch.ResponseStarts[i] < 1 || batch.ResponseStarts[i] > length)
                    throw new ArgumentException($"sequence {i}: response start {batch.ResponseStarts[i]} must be in [1, {length}] (the first token has no logits before it)");
                maxLength = Math.Max(maxLength, length);
            }
            var tokens = new long[n];
            var positions = new long[n];
            var padded = new long[n];
            var bias = new float[(long)b * maxLength * maxLength];
            var scoredRows = new long[batch.ScoredTokens];
            var targets = new long[batch.ScoredTokens];
            var s = 0;
            for (var i = 0; i < b; i++)
            {
                int start = offsets[i], length = offsets[i + 1] - start;
                for (var t = 0; t < length; t++)
                {
                    var token = batch.Tokens[start + t];
                    if ((uint)token >= (uint)config.VocabSize)
                        throw new ArgumentException($"token id {token} at position {start + t} is outside the vocabulary [0, {config.VocabSize})");
                    tokens[start + t] = token;
                    positions[start + t] = t;
                    padded[start + t] = (long)i * maxLength + t;
                }
                for (var query = 0; query < maxLength; query++)
                    for (var key = 0; key < maxLength; key++)
                        bias[((long)i * maxLength + query) * maxLength + key] = key <= query && key < length ? 0f : float.NegativeInfinity;
                for (var t = batch.ResponseStarts[i]; t < length; t++)
                {
                    scoredRows[s] = start + t - 1;
                    targets[s++] = batch.Tokens[start + t];
                }
            }
            return new HostBatch
            {
                Tokens = tokens, Positions = positions, PaddedIndex = padded, AttentionBias = bias, ScoredRows = scoredRows, Targets = targets,
                Sequences = b, MaxLength = maxLength,
            };
        }
    }
}
