using Aspo.Data;
using Aspo.Data.Tokenization;

namespace Aspo.Onnx;

/// <summary>
/// Batched sampling on an exported decoder, GenAI-equivalent (§2.3): one shared KV buffer per layer
/// [B, KV, max_length, D] bound as both past and present input/output on every Run (never reallocated or copied),
/// the attention mask growing by one column per step, one decode Run per token. Each distinct prompt is prefilled
/// once (batch 1, its exact length, so no padding is computed) and its KV rows are copied to every sample of it —
/// GQA rejects multi-token steps with past context at batch &gt; 1, so a batched prefill would have to pad. Rows
/// that finish are compacted out of the batch (<see cref="CompactFinishedRows"/>).
/// </summary>
public sealed class Generator : ISamplingEngine
{
    public string Name => SamplingEngines.Aspo;

    private readonly OnnxDecoder _model;
    private readonly BpeTokenizer? _tokenizer;

    /// <summary>Progress after each decode step: (requests finished, tokens generated so far). Called on the generating thread.</summary>
    public Action<int, long>? OnProgress { get; set; }

    /// <summary>Test hook: (step, logits [active, V], request index of each batch slot) before each sampling step (step 0 follows the prefill).</summary>
    internal Action<int, float[], int[]>? OnLogits { get; set; }

    /// <summary>
    /// When rows finish, move the live rows' KV blocks to the front and run the next steps at the smaller batch
    /// (true), or keep feeding finished rows a pad token as GenAI does (false). The benchmark measures both.
    /// </summary>
    public bool CompactFinishedRows { get; init; } = true;

    /// <summary>
    /// Continuous batching: at most this many rows decode at once, and a row that finishes hands its slot (and KV
    /// block) to the next waiting request, prefilled then. Null = every request of the call decodes in one batch.
    /// </summary>
    public int? MaxActiveRows { get; init; }

    /// <summary>
    /// Decode steps sample inside the graph (<see cref="SamplingHead"/>; the folder must be exported with it): each step
    /// returns [rows] tokens, log-probs and entropies instead of [rows × V] logits. The first token after a prefill is
    /// still sampled on the host from the prefill's logits (one prefill serves every sample of a prompt). Given the same
    /// uniforms the head chooses the host sampler's tokens (tested), so results match it to fp32 rounding.
    /// </summary>
    public bool UseSamplingHead { get; init; }

    public Generator(OnnxDecoder model, BpeTokenizer? tokenizer = null)
    {
        _model = model;
        _tokenizer = tokenizer;
    }

    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<GenerationRequest> requests, SamplingParams sampling)
    {
        sampling.Validate();
        if (requests.Count == 0)
            return [];
        if (sampling.StopStrings.Count > 0 && _tokenizer is null)
            throw new ArgumentException("stop strings need a tokenizer");
        var m = _model;
        if (UseSamplingHead && !m.HasSamplingHead)
            throw new ArgumentException($"{m.ModelPath} has no sampling head: export it with --sampling-head (or sample on the host)");
        int b = requests.Count, kv = m.KvHeads, d = m.HeadSize, v = m.VocabSize;
        foreach (var r in requests)
            if (r.PromptIds.Length == 0 || r.PromptIds.Any(t => (uint)t >= (uint)v))
                throw new ArgumentException($"a prompt is empty or has a token id outside [0, {v})");
        var maxPrompt = requests.Max(r => r.PromptIds.Length);
        var maxLength = maxPrompt + sampling.MaxNewTokens;
        if (maxLength > m.ContextLength)
            throw new ArgumentException($"prompt ({maxPrompt}) + max new tokens ({sampling.MaxNewTokens}) exceeds the model's context length {m.ContextLength}");

        var rowFloats = kv * maxLength * d;
        var stops = new HashSet<int>(m.EosTokenIds.Concat(sampling.StopTokenIds));
        var rows = requests.Select(r => new Row(r, sampling, _tokenizer)).ToArray();
        // slots: all requests at once, or a fixed number refilled from the waiting ones (continuous batching)
        if (MaxActiveRows is < 1)
            throw new ArgumentException($"max active rows must be at least 1, got {MaxActiveRows}");
        var width = Math.Min(b, MaxActiveRows ?? b);
        // the KV cache is the large allocation: refuse a batch it cannot hold before allocating any of it
        var cacheBytes = 2L * m.Layers * width * rowFloats * sizeof(float) + (long)width * v * sizeof(float);
        var available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (cacheBytes > available / 2 || (long)width * rowFloats > Array.MaxLength)
            throw new ArgumentException(FormattableString.Invariant(
                $"{width} rows decoding at once with up to {maxLength} tokens need {cacheBytes / 1e9:F1} GB of KV cache and logits; this process may use {available / 1e9:F1} GB: use a smaller batch size (rows at once) or fewer new tokens"));
        var keys = new float[m.Layers][];
        var values = new float[m.Layers][];
        for (var l = 0; l < m.Layers; l++)
        {
            keys[l] = new float[width * rowFloats];
            values[l] = new float[width * rowFloats];
        }
        var logits = new float[width * v];
        var inputIds = new long[width];
        // sampling head outputs [width] and the uniforms it draws with
        var headTokens = UseSamplingHead ? new long[width] : [];
        var headLogProbs = UseSamplingHead ? new float[width] : [];
        var headEntropies = UseSamplingHead ? new float[width] : [];
        var uniforms = UseSamplingHead ? new double[width] : [];
        var mask = new long[width * maxLength];

        // requests start in prompt-grouped order, so one cached prefill serves every sample of a prompt
        var queue = Enumerable.Range(0, b).GroupBy(i => requests[i].PromptIds, ArrayComparer.Instance).SelectMany(g => g).ToArray();
        var next = 0;
        int[]? cachedPrompt = null;
        float[] cachedLast = [];
        var scratchK = Enumerable.Range(0, m.Layers).Select(_ => new float[rowFloats]).ToArray();
        var scratchV = Enumerable.Range(0, m.Layers).Select(_ => new float[rowFloats]).ToArray();
        var slots = new int[width]; // slots[s] = the request in batch slot s
        void Start(int slot)
        {
            var r = queue[next++];
            var prompt = requests[r].PromptIds;
            if (cachedPrompt is null || !ArrayComparer.Instance.Equals(cachedPrompt, prompt))
            {
                cachedLast = Prefill(prompt, maxLength, scratchK, scratchV);
                cachedPrompt = prompt;
            }
            for (var l = 0; l < m.Layers; l++)
            {
                Array.Copy(scratchK[l], 0, keys[l], slot * rowFloats, rowFloats);
                Array.Copy(scratchV[l], 0, values[l], slot * rowFloats, rowFloats);
            }
            cachedLast.CopyTo(logits, slot * v);
            slots[slot] = r;
        }
        var active = 0;
        while (active < width)
            Start(active++);

        for (var step = 0; ; step++)
        {
            OnLogits?.Invoke(step, logits, slots[..active]);
            for (var s = 0; s < active; s++)
            {
                var row = rows[slots[s]];
                inputIds[s] = row.Done ? m.PadTokenId
                    : UseSamplingHead && step > 0 ? row.Accept((int)headTokens[s], headLogProbs[s], headEntropies[s], stops)
                    : row.Choose(logits.AsSpan(s * v, v), stops);
                // refill: a finished slot takes the next waiting request, whose first token comes from its prefill
                while (rows[slots[s]].Done && next < b)
                {
                    Start(s);
                    var started = rows[slots[s]];
                    inputIds[s] = started.Choose(logits.AsSpan(s * v, v), stops);
                }
            }
            if (OnProgress is { } progress)
            {
                long generated = 0;
                var finished = 0;
                foreach (var r in rows)
                {
                    generated += r.Length - r.PromptLength;
                    finished += r.Done ? 1 : 0;
                }
                progress(finished, generated);
            }
            if (next == b && slots.Take(active).All(i => rows[i].Done))
                break;
            if (CompactFinishedRows && slots.Take(active).Any(i => rows[i].Done))
            {
                var kept = 0;
                for (var s = 0; s < active; s++)
                {
                    if (rows[slots[s]].Done)
                        continue;
                    if (s != kept)
                    {
                        for (var l = 0; l < m.Layers; l++)
                        {
                            Array.Copy(keys[l], s * rowFloats, keys[l], kept * rowFloats, rowFloats);
                            Array.Copy(values[l], s * rowFloats, values[l], kept * rowFloats, rowFloats);
                        }
                        slots[kept] = slots[s];
                        inputIds[kept] = inputIds[s];
                    }
                    kept++;
                }
                active = kept;
            }
            // decode: mask row s has (prompt + generated) ones; total = the longest
            var total = 0;
            for (var s = 0; s < active; s++)
                total = Math.Max(total, rows[slots[s]].Length);
            mask.AsSpan(0, active * total).Clear();
            for (var s = 0; s < active; s++)
                mask.AsSpan(s * total, rows[slots[s]].Length).Fill(1);
            if (UseSamplingHead)
            {
                for (var s = 0; s < active; s++)
                    uniforms[s] = rows[slots[s]].Done ? 0 : rows[slots[s]].NextUniform();
                m.ForwardSampled(inputIds, mask, active, 1, total, keys, values, maxLength, sampling, uniforms, headTokens, headLogProbs, headEntropies);
            }
            else
                Run(inputIds, active, 1, mask, total, keys, values, maxLength, logits);
        }
        return rows.Select(r => r.Result()).ToArray();
    }

    /// <summary>
    /// log_softmax(logits) (T = 1, full vocabulary, fp32) of each candidate token as the next token after each prompt:
    /// [prompt][candidate]. One prefill per distinct prompt, the same path as rollout's prefill — what a model-based
    /// verifier reads its "yes" probability from.
    /// </summary>
    public float[][] NextTokenLogProbs(IReadOnlyList<int[]> prompts, IReadOnlyList<int> candidates)
    {
        var m = _model;
        foreach (var c in candidates)
            if ((uint)c >= (uint)m.VocabSize)
                throw new ArgumentException($"candidate token {c} is outside the vocabulary [0, {m.VocabSize})");
        var results = new float[prompts.Count][];
        foreach (var group in Enumerable.Range(0, prompts.Count).GroupBy(i => prompts[i], ArrayComparer.Instance))
        {
            var prompt = group.Key;
            if (prompt.Length == 0 || prompt.Length > m.ContextLength || prompt.Any(t => (uint)t >= (uint)m.VocabSize))
                throw new ArgumentException($"a prompt is empty, longer than the context length {m.ContextLength}, or has a token id outside [0, {m.VocabSize})");
            var rowFloats = m.KvHeads * prompt.Length * m.HeadSize;
            var keys = Enumerable.Range(0, m.Layers).Select(_ => new float[rowFloats]).ToArray();
            var values = Enumerable.Range(0, m.Layers).Select(_ => new float[rowFloats]).ToArray();
            var last = Prefill(prompt, prompt.Length, keys, values);
            var logProbs = candidates.Select(c => Sampling.LogProbAndEntropy(last, c, 1f).LogProb).ToArray();
            foreach (var i in group)
                results[i] = logProbs;
        }
        return results;
    }

    /// <summary>Prefill of one prompt at batch 1 into the scratch caches; returns the logits of its last position.</summary>
    private float[] Prefill(int[] prompt, int maxLength, float[][] keys, float[][] values)
    {
        var v = _model.VocabSize;
        var ids = prompt.Select(t => (long)t).ToArray();
        var mask = new long[prompt.Length];
        Array.Fill(mask, 1);
        var logits = new float[prompt.Length * v];
        Run(ids, 1, prompt.Length, mask, prompt.Length, keys, values, maxLength, logits);
        return logits.AsSpan((prompt.Length - 1) * v, v).ToArray();
    }

    private void Run(long[] ids, int batch, int seq, long[] mask, int total, float[][] keys, float[][] values, int maxLength, float[] logits) =>
        _model.Forward(ids, mask, batch, seq, total, logits, keys, values, maxLength);

    private sealed class ArrayComparer : IEqualityComparer<int[]>
    {
        public static readonly ArrayComparer Instance = new();
        public bool Equals(int[]? a, int[]? b) => a.AsSpan().SequenceEqual(b);
        public int GetHashCode(int[] a)
        {
            var h = new HashCode();
            foreach (var x in a)
                h.Add(x);
            return h.ToHashCode();
        }
    }

    /// <summary>One sample's state: its RNG, tokens, log-probs and stop checks.</summary>
    private sealed class Row
    {
        private readonly SamplingParams _p;
        private readonly List<int> _tokens = [];
        private readonly List<float> _logProbs = [];
        private readonly List<float>? _entropies;
        private readonly StreamingDecoder? _decoder;
        private readonly System.Text.StringBuilder _text = new();
        private readonly BpeTokenizer? _tokenizer;
        private ulong _rng;
        private float[] _scratch = [];

        public Row(GenerationRequest request, SamplingParams p, BpeTokenizer? tokenizer)
        {
            _p = p;
            _rng = request.Seed;
            PromptLength = request.PromptIds.Length;
            _entropies = p.RecordEntropy ? [] : null;
            _tokenizer = tokenizer;
            _decoder = tokenizer?.CreateStreamingDecoder();
        }

        public int PromptLength { get; }
        public int Length => PromptLength + _tokens.Count;
        public bool Done { get; private set; }
        public string FinishReason { get; private set; } = "length";

        public int Choose(ReadOnlySpan<float> logits, HashSet<int> stops)
        {
            var (token, logProb, entropy) = Sampling.Sample(logits, _p, ref _rng, ref _scratch);
            return Accept(token, logProb, entropy, stops);
        }

        /// <summary>The uniform number the next draw uses, taken from this sample's stream exactly when the host sampler would take it.</summary>
        public double NextUniform() => Sampling.Draws(_p) ? SplitMix64.NextDouble(ref _rng) : 0;

        /// <summary>Records a token chosen elsewhere (the sampling head) and checks the stop conditions.</summary>
        public int Accept(int token, float logProb, float entropy, HashSet<int> stops)
        {
            _tokens.Add(token);
            _logProbs.Add(logProb);
            _entropies?.Add(entropy);
            var piece = 0;
            if (_decoder is not null)
            {
                var text = _decoder.Push(token);
                _text.Append(text);
                piece = text.Length;
            }
            if (stops.Contains(token) || (piece > 0 && StopStringEnded(piece)))
            {
                Done = true;
                FinishReason = "stop";
            }
            else if (_tokens.Count >= _p.MaxNewTokens)
                Done = true;
            return token;
        }

        /// <summary>Whether a stop string ends inside the last <paramref name="piece"/> characters: only that tail is
        /// searched, so the check costs O(piece + longest stop string) per token, not the whole text.</summary>
        private bool StopStringEnded(int piece)
        {
            foreach (var stop in _p.StopStrings)
            {
                var start = Math.Max(0, _text.Length - piece - stop.Length + 1);
                if (_text.ToString(start, _text.Length - start).Contains(stop, StringComparison.Ordinal))
                    return true;
            }
            return false;
        }

        public GenerationResult Result() =>
            new([.. _tokens], [.. _logProbs], _entropies?.ToArray(), FinishReason, _decoder is null ? null : _text.Append(_decoder.Flush()).ToString());
    }
}
