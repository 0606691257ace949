using Aspo.Native.Blas;

namespace Aspo.Model;

/// <summary>
/// A decoder-only transformer (Llama / Qwen2 / Qwen3 as Hugging Face defines them) with a hand-written backward.
/// Sequences are packed: N tokens in total, sequence b owning rows [offsets[b], offsets[b+1]), positions restarting
/// at 0 in each. For RL the forward scores the response tokens of each sequence — log π(token) = log_softmax(z/T)
/// and the entropy of softmax(z/T), z the logits at the previous position — and the backward takes per-token
/// coefficients ∂L/∂logπ (and optionally ∂L/∂H) and accumulates every parameter gradient into <see cref="Gradients"/>.
/// Vocabulary-sized logits exist for one chunk of scored tokens at a time.
/// </summary>
public sealed class Decoder
{
    /// <summary>Memory for one chunk of vocabulary-sized logits. Larger chunks make the lm_head weight-gradient GEMM
    /// (K = rows per chunk) read and write the [V, C] gradient fewer times: with 32 rows that traffic dominated the step.</summary>
    public const long LogitsBudgetBytes = 256L << 20;

    /// <summary>Scored tokens per vocabulary chunk for vocabulary size <paramref name="vocab"/>: the logits buffer is ChunkRows × V floats.</summary>
    public static int ChunkRows(int vocab) => (int)Math.Clamp(LogitsBudgetBytes / (4L * vocab), 32, 1024);

    private readonly IGemm _gemm;        // attention and the vocabulary head's logits: always fp32
    private readonly IGemm _projections; // the linear layers (q/k/v/o, MLP) and the head's backward: fp32, or bf16 operands (learner.dtype bf16)
    private float[] _ropeCos = [], _ropeSin = [];
    private int _ropePositions;
    private Workspace? _ws;                  // the workspace of the last Forward (Backward reads it)
    private Workspace? _training, _scoring;  // kept apart: scoring between training steps must not drop the training buffers

    /// <param name="projections">GEMM for the linear layers' forward and backward and the vocabulary head's backward
    /// (null: <paramref name="gemm"/>); the attention products and the head's logits always use <paramref name="gemm"/>,
    /// so log-probs keep their fp32 meaning</param>
    public Decoder(ModelConfig config, float[] parameters, IGemm gemm, IGemm? projections = null)
    {
        Config = config;
        Layout = new ParameterLayout(config);
        if (parameters.LongLength != Layout.TotalCount)
            throw new ArgumentException($"parameter slab has {parameters.LongLength} floats, the layout needs {Layout.TotalCount}");
        Parameters = parameters;
        _gemm = gemm;
        _projections = projections ?? gemm;
    }

    public ModelConfig Config { get; }
    public ParameterLayout Layout { get; }

    /// <summary>All parameters, one slab in <see cref="Layout"/> order.</summary>
    public float[] Parameters { get; }

    /// <summary>Gradient slab, same layout; accumulated by <see cref="Backward"/>, cleared by <see cref="ZeroGradients"/>.</summary>
    public float[] Gradients => _gradients ??= new float[Parameters.Length];
    private float[]? _gradients;

    public void ZeroGradients() => Array.Clear(Gradients);

    private Span<float> P(long offset, long count) => Parameters.AsSpan((int)offset, (int)count);
    private Span<float> G(long offset, long count) => Gradients.AsSpan((int)offset, (int)count);

    /// <summary>
    /// Forward pass. Scores the tokens at positions [responseStarts[b], length of b) of each sequence (response start ≥ 1),
    /// in order, into <paramref name="logProbs"/> and <paramref name="entropies"/> (one per scored token).
    /// With <paramref name="forTraining"/> every layer's activations are kept for <see cref="Backward"/>.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<int> offsets, ReadOnlySpan<int> responseStarts, float temperature,
        Span<float> logProbs, Span<float> entropies, bool forTraining)
    {
        var batch = BatchShape.Create(Config, tokens, offsets, responseStarts, temperature);
        if (logProbs.Length != batch.Scored || (entropies.Length != 0 && entropies.Length != batch.Scored))
            throw new ArgumentException($"the batch scores {batch.Scored} tokens; logProbs has {logProbs.Length} slots, entropies {entropies.Length}");
        EnsureRope(batch.MaxLength);
        _ws = null; // a workspace that must grow can be collected before its successor is allocated
        ref var slot = ref forTraining ? ref _training : ref _scoring;
        var ws = _ws = Workspace.For(ref slot, Config, batch, forTraining);
        int n = batch.Tokens, c = Config.HiddenSize;

        // embedding lookup into the residual stream of layer 0
        var h0 = ws.Resid[0].AsSpan(0, n * c);
        for (var t = 0; t < n; t++)
            P(Layout.Embedding + (long)tokens[t] * c, c).CopyTo(h0.Slice(t * c, c));

        for (var l = 0; l < Config.NumLayers; l++)
            LayerForward(l, ws, batch);

        var last = ws.Resid[ws.ResidIndex(Config.NumLayers)].AsSpan(0, n * c);
        Kernels.RmsNormForward(last, P(Layout.FinalNorm, c), (float)Config.RmsNormEps, ws.Xf, ws.RstdF, n, c);
        VocabForward(ws, batch, logProbs, entropies);
    }

    private void LayerForward(int l, Workspace ws, BatchShape batch)
    {
        var cfg = Config;
        var L = Layout.Layers[l];
        var a = ws.Layer(l);
        int n = batch.Tokens, c = cfg.HiddenSize, d = cfg.HeadDim, hd = cfg.NumHeads * d, kvd = cfg.NumKvHeads * d, f = cfg.IntermediateSize;
        var eps = (float)cfg.RmsNormEps;
        var hIn = ws.Resid[ws.ResidIndex(l)].AsSpan(0, n * c);
        var hOut = ws.Resid[ws.ResidIndex(l + 1)].AsSpan(0, n * c);

        Kernels.RmsNormForward(hIn, P(L.InputNorm, c), eps, a.X1, a.Rstd1, n, c);
        var qTarget = cfg.HasQkNorm ? a.QLin : a.Q;
        var kTarget = cfg.HasQkNorm ? a.KLin : a.K;
        Linear(a.X1, n, c, L.Wq, L.Bq, hd, qTarget);
        Linear(a.X1, n, c, L.Wk, L.Bk, kvd, kTarget);
        Linear(a.X1, n, c, L.Wv, L.Bv, kvd, a.V);
        if (cfg.HasQkNorm)
        {
            Kernels.RmsNormForward(a.QLin, P(L.QNorm, d), eps, a.Q, a.RstdQ, n * cfg.NumHeads, d);
            Kernels.RmsNormForward(a.KLin, P(L.KNorm, d), eps, a.K, a.RstdK, n * cfg.NumKvHeads, d);
        }
        for (var b = 0; b < batch.Sequences; b++)
        {
            int start = batch.Offsets[b], len = batch.Offsets[b + 1] - start;
            Kernels.Rope(a.Q.AsSpan(start * hd, len * hd), len, cfg.NumHeads, d, _ropeCos, _ropeSin, inverse: false);
            Kernels.Rope(a.K.AsSpan(start * kvd, len * kvd), len, cfg.NumKvHeads, d, _ropeCos, _ropeSin, inverse: false);
        }
        AttentionForward(a, batch);

        // hMid = hIn + attn·Woᵀ (+bo)
        Linear(a.Attn, n, hd, L.Wo, L.Bo, c, a.HMid);
        for (var i = 0; i < n * c; i++)
            a.HMid[i] += hIn[i];

        Kernels.RmsNormForward(a.HMid, P(L.PostNorm, c), eps, a.X2, a.Rstd2, n, c);
        Linear(a.X2, n, c, L.WGate, -1, f, a.Gate);
        Linear(a.X2, n, c, L.WUp, -1, f, a.Up);
        Kernels.SwiGluForward(a.Gate, a.Up, a.Act, n * f);
        Linear(a.Act, n, f, L.WDown, -1, c, hOut);
        for (var i = 0; i < n * c; i++)
            hOut[i] += a.HMid[i];
    }

    /// <summary>y[N, out] = x[N, in]·Wᵀ (+ b), W [out, in] at slab offset <paramref name="w"/>.</summary>
    private void Linear(ReadOnlySpan<float> x, int rows, int inDim, long w, long bias, int outDim, Span<float> y)
    {
        _projections.Sgemm(false, true, rows, outDim, inDim, 1f, x[..(rows * inDim)], inDim, P(w, (long)outDim * inDim), inDim, 0f, y[..(rows * outDim)], outDim);
        if (bias >= 0)
            Kernels.AddBias(y, P(bias, outDim), rows, outDim);
    }

    private void AttentionForward(LayerActivations a, BatchShape batch)
    {
        var cfg = Config;
        int d = cfg.HeadDim, heads = cfg.NumHeads, groupSize = heads / cfg.NumKvHeads, hd = heads * d, kvd = cfg.NumKvHeads * d;
        var scale = 1f / MathF.Sqrt(d);
        for (var b = 0; b < batch.Sequences; b++)
        {
            int start = batch.Offsets[b], t = batch.Offsets[b + 1] - start;
            for (var h = 0; h < heads; h++)
            {
                var g = h / groupSize; // query head h reads kv head h / (H/KV)
                var probs = a.Probs.AsSpan(batch.ProbOffset(b, h, heads), t * t);
                _gemm.Sgemm(false, true, t, t, d, scale, a.Q.AsSpan(start * hd + h * d), hd, a.K.AsSpan(start * kvd + g * d), kvd, 0f, probs, t);
                Kernels.CausalSoftmax(probs, t);
                _gemm.Sgemm(false, false, t, d, t, 1f, probs, t, a.V.AsSpan(start * kvd + g * d), kvd, 0f, a.Attn.AsSpan(start * hd + h * d), hd);
            }
        }
    }

    /// <summary>
    /// The full logits [T, V] of one sequence (all positions), for comparisons with other implementations and the
    /// naive generator baseline; materialises T × V floats, so use it on short sequences.
    /// </summary>
    public float[] Logits(ReadOnlySpan<int> tokens)
    {
        var n = tokens.Length;
        var lp = new float[Math.Max(0, n - 1)];
        Forward(tokens, [0, n], [Math.Min(1, n)], 1f, lp, [], forTraining: false); // fills the final hidden states
        var ws = _ws!;
        int c = Config.HiddenSize, v = Config.VocabSize;
        var logits = new float[(long)n * v];
        _gemm.Sgemm(false, true, n, v, c, 1f, ws.Xf.AsSpan(0, n * c), c, P(Layout.LmHead, (long)v * c), c, 0f, logits, v);
        return logits;
    }

    /// <summary>Logits chunk by chunk at the positions before each scored token; log-prob of the token and entropy, at temperature T.</summary>
    private void VocabForward(Workspace ws, BatchShape batch, Span<float> logProbs, Span<float> entropies)
    {
        int c = Config.HiddenSize, v = Config.VocabSize;
        var lm = P(Layout.LmHead, (long)v * c);
        var chunk = ChunkRows(v);
        ws.LogitsChunkStart = -1;
        // last chunk first, so the buffer ends holding chunk 0 (a full one), where the backward begins
        for (var s0 = (batch.Scored - 1) / chunk * chunk; s0 >= 0; s0 -= chunk)
        {
            var rows = Math.Min(chunk, batch.Scored - s0);
            GatherRows(ws.Xf, batch.ScoredRows.AsSpan(s0, rows), c, ws.ChunkX);
            var logits = ws.Logits.AsSpan(0, rows * v);
            _gemm.Sgemm(false, true, rows, v, c, 1f, ws.ChunkX.AsSpan(0, rows * c), c, lm, c, 0f, logits, v);
            var first = s0;
            var rowLogProbs = ws.ChunkLogProbs;
            var rowEntropies = ws.ChunkEntropies;
            ForRowHalves(rows, (half, from, to) =>
            {
                var e = ws.RowE[half];
                for (var i = from; i < to; i++)
                    (rowLogProbs[i], rowEntropies[i]) = VocabKernels.Score(ws.Logits.AsSpan(i * v, v), batch.Targets[first + i], batch.InverseTemperature, e);
            });
            rowLogProbs.AsSpan(0, rows).CopyTo(logProbs[s0..]);
            if (entropies.Length != 0)
                rowEntropies.AsSpan(0, rows).CopyTo(entropies[s0..]);
        }
        if (ws.ForTraining && batch.Scored > 0)
            ws.LogitsChunkStart = 0;
    }

    /// <summary>Runs body(half, from, to) on the two halves of [0, rows) in parallel; each half has its own scratch.</summary>
    private static void ForRowHalves(int rows, Action<int, int, int> body)
    {
        if (rows < 2)
        {
            body(0, 0, rows);
            return;
        }
        var mid = rows / 2;
        Parallel.Invoke(() => body(0, 0, mid), () => body(1, mid, rows));
    }

    private static void GatherRows(ReadOnlySpan<float> source, ReadOnlySpan<int> rows, int c, Span<float> destination)
    {
        for (var i = 0; i < rows.Length; i++)
            source.Slice(rows[i] * c, c).CopyTo(destination.Slice(i * c, c));
    }

    /// <summary>
    /// Backward of the last <see cref="Forward"/> (which must have run with forTraining): accumulates into
    /// <see cref="Gradients"/> the gradient of L given ∂L/∂logπ per scored token (and ∂L/∂H, or empty).
    /// </summary>
    public void Backward(ReadOnlySpan<float> dLogProbs, ReadOnlySpan<float> dEntropies) => Backward(dLogProbs, dEntropies, []);

    /// <summary>
    /// The final hidden state (after the final RMSNorm) at the position before each scored token — the rows the head
    /// reads — of the last <see cref="Forward"/>, [S, C]: what a value head on the trunk reads.
    /// </summary>
    public void ScoredHidden(Span<float> hidden)
    {
        var ws = _ws ?? throw new InvalidOperationException("ScoredHidden needs a Forward first");
        var c = Config.HiddenSize;
        if (hidden.Length != ws.Batch.Scored * c)
            throw new ArgumentException($"the batch scored {ws.Batch.Scored} tokens: hidden needs {ws.Batch.Scored} × {c} floats, got {hidden.Length}");
        GatherRows(ws.Xf, ws.Batch.ScoredRows, c, hidden);
    }

    /// <summary>
    /// <see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float})"/> plus ∂L/∂(<see cref="ScoredHidden"/>) [S, C]
    /// (or empty): a value head's gradient into the trunk.
    /// </summary>
    public void Backward(ReadOnlySpan<float> dLogProbs, ReadOnlySpan<float> dEntropies, ReadOnlySpan<float> dScoredHidden)
    {
        var ws = _ws ?? throw new InvalidOperationException("Backward needs a Forward first");
        if (!ws.ForTraining)
            throw new InvalidOperationException("the last Forward ran without forTraining: no activations were kept");
        var batch = ws.Batch;
        if (dLogProbs.Length != batch.Scored || (dEntropies.Length != 0 && dEntropies.Length != batch.Scored))
            throw new ArgumentException($"the batch scored {batch.Scored} tokens; dLogProbs has {dLogProbs.Length}, dEntropies {dEntropies.Length}");
        var cfg = Config;
        int n = batch.Tokens, c = cfg.HiddenSize;
        _ = Gradients;

        var dh = ws.DResid.AsSpan(0, n * c);
        var dxf = ws.DX.AsSpan(0, n * c);
        dxf.Clear();
        VocabBackward(ws, batch, dLogProbs, dEntropies, dxf);
        if (dScoredHidden.Length != 0)
        {
            if (dScoredHidden.Length != batch.Scored * c)
                throw new ArgumentException($"the batch scored {batch.Scored} tokens: dScoredHidden needs {batch.Scored} × {c} floats, got {dScoredHidden.Length}");
            for (var i = 0; i < batch.Scored; i++)
                System.Numerics.Tensors.TensorPrimitives.Add(dxf.Slice(batch.ScoredRows[i] * c, c), dScoredHidden.Slice(i * c, c), dxf.Slice(batch.ScoredRows[i] * c, c));
        }
        var last = ws.Resid[ws.ResidIndex(cfg.NumLayers)].AsSpan(0, n * c);
        Kernels.RmsNormBackward(last, P(Layout.FinalNorm, c), ws.RstdF, dxf, dh, G(Layout.FinalNorm, c), n, c, accumulate: false);

        for (var l = cfg.NumLayers - 1; l >= 0; l--)
            LayerBackward(l, ws, batch);

        // embedding rows receive the residual gradient of layer 0's input
        for (var t = 0; t < n; t++)
        {
            var row = G(Layout.Embedding + (long)ws.Batch.TokenIds[t] * c, c);
            var src = dh.Slice(t * c, c);
            for (var j = 0; j < c; j++)
                row[j] += src[j];
        }
    }

    private void VocabBackward(Workspace ws, BatchShape batch, ReadOnlySpan<float> dLogProbs, ReadOnlySpan<float> dEntropies, Span<float> dxf)
    {
        int c = Config.HiddenSize, v = Config.VocabSize;
        var lm = P(Layout.LmHead, (long)v * c);
        var dlm = G(Layout.LmHead, (long)v * c);
        var invT = batch.InverseTemperature;
        var chunk = ChunkRows(v);
        var kept = ws.LogitsChunkStart;
        ws.LogitsChunkStart = -1; // the gradient overwrites the logits in place
        for (var s0 = 0; s0 < batch.Scored; s0 += chunk)
        {
            var rows = Math.Min(chunk, batch.Scored - s0);
            var scoredRows = batch.ScoredRows.AsSpan(s0, rows);
            GatherRows(ws.Xf, scoredRows, c, ws.ChunkX);
            var x = ws.ChunkX.AsSpan(0, rows * c);
            var logits = ws.Logits.AsSpan(0, rows * v);
            if (s0 != kept) // the same product as the forward's, so the same bits
                _gemm.Sgemm(false, true, rows, v, c, 1f, x, c, lm, c, 0f, logits, v);
            var cLogProbs = ws.ChunkLogProbs;
            var cEntropies = ws.ChunkEntropies;
            dLogProbs.Slice(s0, rows).CopyTo(cLogProbs);
            if (dEntropies.Length == 0)
                cEntropies.AsSpan(0, rows).Clear();
            else
                dEntropies.Slice(s0, rows).CopyTo(cEntropies);
            var first = s0;
            ForRowHalves(rows, (half, from, to) =>
            {
                float[] u = ws.RowU[half], e = ws.RowE[half];
                for (var i = from; i < to; i++)
                    VocabKernels.Gradient(ws.Logits.AsSpan(i * v, v), batch.Targets[first + i], invT, cLogProbs[i], cEntropies[i], u, e);
            });
            var dx = ws.ChunkDx.AsSpan(0, rows * c);
            // the head's backward products go through the linear layers' GEMM: in bf16 when learner.dtype is (only
            // gradients, which carry the bf16 budget anyway; the logits above stay fp32)
            _projections.Sgemm(false, false, rows, c, v, 1f, logits, v, lm, c, 0f, dx, c);
            _projections.Sgemm(true, false, v, c, rows, 1f, logits, v, x, c, 1f, dlm, c);
            for (var i = 0; i < rows; i++)
            {
                var dst = dxf.Slice(scoredRows[i] * c, c);
                var src = dx.Slice(i * c, c);
                for (var j = 0; j < c; j++)
                    dst[j] += src[j];
            }
        }
    }

    private void LayerBackward(int l, Workspace ws, BatchShape batch)
    {
        var cfg = Config;
        var L = Layout.Layers[l];
        var a = ws.Layer(l);
        int n = batch.Tokens, c = cfg.HiddenSize, d = cfg.HeadDim, hd = cfg.NumHeads * d, kvd = cfg.NumKvHeads * d, f = cfg.IntermediateSize;
        var dh = ws.DResid.AsSpan(0, n * c);
        var hIn = ws.Resid[ws.ResidIndex(l)].AsSpan(0, n * c);

        // MLP: hOut = hMid + act·Wdᵀ, act = silu(x2·Wgᵀ) ⊙ (x2·Wuᵀ)
        var dact = ws.DAct.AsSpan(0, n * f);
        _projections.Sgemm(false, false, n, f, c, 1f, dh, c, P(L.WDown, (long)c * f), f, 0f, dact, f);
        _projections.Sgemm(true, false, c, f, n, 1f, dh, c, a.Act.AsSpan(0, n * f), f, 1f, G(L.WDown, (long)c * f), f);
        var dgate = ws.DGate.AsSpan(0, n * f);
        var dup = ws.DUp.AsSpan(0, n * f);
        Kernels.SwiGluBackward(a.Gate, a.Up, ws.DAct, ws.DGate, ws.DUp, n * f);
        var dx = ws.DX.AsSpan(0, n * c);
        _projections.Sgemm(false, false, n, c, f, 1f, dgate, f, P(L.WGate, (long)f * c), c, 0f, dx, c);
        _projections.Sgemm(false, false, n, c, f, 1f, dup, f, P(L.WUp, (long)f * c), c, 1f, dx, c);
        _projections.Sgemm(true, false, f, c, n, 1f, dgate, f, a.X2.AsSpan(0, n * c), c, 1f, G(L.WGate, (long)f * c), c);
        _projections.Sgemm(true, false, f, c, n, 1f, dup, f, a.X2.AsSpan(0, n * c), c, 1f, G(L.WUp, (long)f * c), c);
        Kernels.RmsNormBackward(a.HMid, P(L.PostNorm, c), a.Rstd2, dx, dh, G(L.PostNorm, c), n, c, accumulate: true);

        // attention: hMid = hIn + attn·Woᵀ (+bo)
        var dattn = ws.DAttn.AsSpan(0, n * hd);
        _projections.Sgemm(false, false, n, hd, c, 1f, dh, c, P(L.Wo, (long)c * hd), hd, 0f, dattn, hd);
        _projections.Sgemm(true, false, c, hd, n, 1f, dh, c, a.Attn.AsSpan(0, n * hd), hd, 1f, G(L.Wo, (long)c * hd), hd);
        if (L.Bo >= 0)
            Kernels.BiasBackward(dh, G(L.Bo, c), n, c);

        var dq = ws.DQ.AsSpan(0, n * hd);
        var dk = ws.DK.AsSpan(0, n * kvd);
        var dv = ws.DV.AsSpan(0, n * kvd);
        AttentionBackward(a, batch, dattn, dq, dk, dv);
        for (var b = 0; b < batch.Sequences; b++)
        {
            int start = batch.Offsets[b], len = batch.Offsets[b + 1] - start;
            Kernels.Rope(dq.Slice(start * hd, len * hd), len, cfg.NumHeads, d, _ropeCos, _ropeSin, inverse: true);
            Kernels.Rope(dk.Slice(start * kvd, len * kvd), len, cfg.NumKvHeads, d, _ropeCos, _ropeSin, inverse: true);
        }
        if (cfg.HasQkNorm)
        {
            // the normalised q/k were computed from QLin/KLin; their gradients replace dq/dk
            var dqLin = ws.DQLin.AsSpan(0, n * hd);
            var dkLin = ws.DKLin.AsSpan(0, n * kvd);
            Kernels.RmsNormBackward(a.QLin, P(L.QNorm, d), a.RstdQ, dq, dqLin, G(L.QNorm, d), n * cfg.NumHeads, d, accumulate: false);
            Kernels.RmsNormBackward(a.KLin, P(L.KNorm, d), a.RstdK, dk, dkLin, G(L.KNorm, d), n * cfg.NumKvHeads, d, accumulate: false);
            dq = dqLin;
            dk = dkLin;
        }
        // dx1 = dq·Wq + dk·Wk + dv·Wv; weight and bias gradients
        var dx1 = ws.DX.AsSpan(0, n * c);
        var x1 = a.X1.AsSpan(0, n * c);
        _projections.Sgemm(false, false, n, c, hd, 1f, dq, hd, P(L.Wq, (long)hd * c), c, 0f, dx1, c);
        _projections.Sgemm(false, false, n, c, kvd, 1f, dk, kvd, P(L.Wk, (long)kvd * c), c, 1f, dx1, c);
        _projections.Sgemm(false, false, n, c, kvd, 1f, dv, kvd, P(L.Wv, (long)kvd * c), c, 1f, dx1, c);
        _projections.Sgemm(true, false, hd, c, n, 1f, dq, hd, x1, c, 1f, G(L.Wq, (long)hd * c), c);
        _projections.Sgemm(true, false, kvd, c, n, 1f, dk, kvd, x1, c, 1f, G(L.Wk, (long)kvd * c), c);
        _projections.Sgemm(true, false, kvd, c, n, 1f, dv, kvd, x1, c, 1f, G(L.Wv, (long)kvd * c), c);
        if (L.Bq >= 0)
        {
            Kernels.BiasBackward(dq, G(L.Bq, hd), n, hd);
            Kernels.BiasBackward(dk, G(L.Bk, kvd), n, kvd);
            Kernels.BiasBackward(dv, G(L.Bv, kvd), n, kvd);
        }
        Kernels.RmsNormBackward(hIn, P(L.InputNorm, c), a.Rstd1, dx1, dh, G(L.InputNorm, c), n, c, accumulate: true);
    }

    private void AttentionBackward(LayerActivations a, BatchShape batch, ReadOnlySpan<float> dattn, Span<float> dq, Span<float> dk, Span<float> dv)
    {
        var cfg = Config;
        int d = cfg.HeadDim, heads = cfg.NumHeads, groupSize = heads / cfg.NumKvHeads, hd = heads * d, kvd = cfg.NumKvHeads * d;
        var scale = 1f / MathF.Sqrt(d);
        dk.Clear();
        dv.Clear();
        var dp = _ws!.DProbs;
        for (var b = 0; b < batch.Sequences; b++)
        {
            int start = batch.Offsets[b], t = batch.Offsets[b + 1] - start;
            var ds = dp.AsSpan(0, t * t);
            for (var h = 0; h < heads; h++)
            {
                var g = h / groupSize;
                var probs = a.Probs.AsSpan(batch.ProbOffset(b, h, heads), t * t);
                var dO = dattn[(start * hd + h * d)..];
                // dV_g += Pᵀ·dO ; dP = dO·V_gᵀ
                _gemm.Sgemm(true, false, t, d, t, 1f, probs, t, dO, hd, 1f, dv[(start * kvd + g * d)..], kvd);
                _gemm.Sgemm(false, true, t, t, d, 1f, dO, hd, a.V.AsSpan(start * kvd + g * d), kvd, 0f, ds, t);
                Kernels.CausalSoftmaxBackward(probs, ds, t, scale);
                // dQ_h = dS·K_g ; dK_g += dSᵀ·Q_h
                _gemm.Sgemm(false, false, t, d, t, 1f, ds, t, a.K.AsSpan(start * kvd + g * d), kvd, 0f, dq[(start * hd + h * d)..], hd);
                _gemm.Sgemm(true, false, t, d, t, 1f, ds, t, a.Q.AsSpan(start * hd + h * d), hd, 1f, dk[(start * kvd + g * d)..], kvd);
            }
        }
    }

    /// <summary>cos/sin [positions, D/2] of rotate-half RoPE, fp32 angles p·inv_freq as Hugging Face computes them,
    /// with llama3 scaling of inv_freq when configured.</summary>
    private void EnsureRope(int positions)
    {
        if (positions <= _ropePositions)
            return;
        var half = Config.HeadDim / 2;
        var invFreq = RopeInverseFrequencies(Config);
        _ropeCos = new float[positions * half];
        _ropeSin = new float[positions * half];
        for (var p = 0; p < positions; p++)
            for (var j = 0; j < half; j++)
            {
                var angle = p * invFreq[j];
                _ropeCos[p * half + j] = MathF.Cos(angle);
                _ropeSin[p * half + j] = MathF.Sin(angle);
            }
        _ropePositions = positions;
    }

    /// <summary>inv_freq[j] = 1/θ^(2j/D), with llama3 scaling when configured (fp32, as Hugging Face computes it).</summary>
    public static float[] RopeInverseFrequencies(ModelConfig config)
    {
        var d = config.HeadDim;
        var inv = new float[d / 2];
        for (var j = 0; j < d / 2; j++)
        {
            var f = 1.0 / Math.Pow(config.RopeTheta, 2.0 * j / d);
            if (config.RopeScaling is { } s)
            {
                double lowWavelength = s.OriginalMaxPositionEmbeddings / s.LowFreqFactor, highWavelength = s.OriginalMaxPositionEmbeddings / s.HighFreqFactor;
                var wavelength = 2 * Math.PI / f;
                if (wavelength > lowWavelength)
                    f /= s.Factor;
                else if (wavelength >= highWavelength)
                {
                    var smooth = (s.OriginalMaxPositionEmbeddings / wavelength - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    f = (1 - smooth) * f / s.Factor + smooth * f;
                }
            }
            inv[j] = (float)f;
        }
        return inv;
    }
}
