using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;

namespace Aspo.Onnx;

/// <summary>
/// An exported decoder folder opened for generation: genai_config.json (validated against the graph) and an ONNX
/// Runtime session on model.onnx (its external data found next to it), and the one forward call the sampler and the
/// scorer share.
/// </summary>
public sealed class OnnxDecoder : IDisposable
{
    private readonly string[] _inputNames;  // input_ids, attention_mask, past_key_values.{l}.key/value
    private readonly string[] _outputNames; // logits, present.{l}.key/value

    private OnnxDecoder(string folder, string modelPath, InferenceSession session, int layers, int kvHeads, int headSize, int vocab, int context, int[] eos, int pad)
    {
        Folder = folder;
        ModelPath = modelPath;
        Session = session;
        Layers = layers;
        KvHeads = kvHeads;
        HeadSize = headSize;
        VocabSize = vocab;
        ContextLength = context;
        EosTokenIds = eos;
        PadTokenId = pad;
        _inputNames = ["input_ids", "attention_mask", .. Enumerable.Range(0, layers).SelectMany(l => new[] { $"past_key_values.{l}.key", $"past_key_values.{l}.value" })];
        _outputNames = ["logits", .. Enumerable.Range(0, layers).SelectMany(l => new[] { $"present.{l}.key", $"present.{l}.value" })];
        HasSamplingHead = session.InputMetadata.ContainsKey(SamplingHead.Uniform);
        _sampledInputNames = [.. _inputNames, SamplingHead.Temperature, SamplingHead.TopK, SamplingHead.TopP, SamplingHead.Uniform];
        _sampledOutputNames = [SamplingHead.Token, SamplingHead.LogProb, SamplingHead.Entropy, .. _outputNames.Skip(1)];
    }

    private readonly string[] _sampledInputNames;  // the inputs + the sampling head's temperature, top-k, top-p, uniforms
    private readonly string[] _sampledOutputNames; // next_token, next_logprob, next_entropy, present.{l}.key/value

    /// <summary>Whether the graph ends in the in-graph sampler (exported with <c>--sampling-head</c>).</summary>
    public bool HasSamplingHead { get; }

    public string Folder { get; }
    public string ModelPath { get; }
    public InferenceSession Session { get; }
    public int Layers { get; }
    public int KvHeads { get; }
    public int HeadSize { get; }
    public int VocabSize { get; }
    public int ContextLength { get; }
    public IReadOnlyList<int> EosTokenIds { get; }
    public int PadTokenId { get; }

    /// <summary>Opens <paramref name="folder"/>; <paramref name="threads"/> = ORT intra-op threads (0: its default).</summary>
    /// <exception cref="Aspo.Model.ModelFormatException">missing files, a genai_config.json that disagrees with the graph</exception>
    public static OnnxDecoder Open(string folder, int threads = 0) => Open(folder, new OnnxSessionSettings { Threads = threads });

    /// <summary>Opens <paramref name="folder"/> with the given session settings (threads, spinning, device).</summary>
    /// <exception cref="Aspo.Model.ModelFormatException">missing files, a genai_config.json that disagrees with the graph</exception>
    public static OnnxDecoder Open(string folder, OnnxSessionSettings settings)
    {
        var configPath = Path.Combine(folder, DecoderExporter.GenAiConfigFile);
        if (!File.Exists(configPath))
            throw new Aspo.Model.ModelFormatException($"{configPath}: genai_config.json not found (export the model with `aspo export`)");
        JsonObject model, decoder;
        int layers, kv, head, vocab, context, pad;
        int[] eos;
        string file;
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject ?? throw new Aspo.Model.ModelFormatException($"{configPath}: expected a JSON object");
            model = root["model"] as JsonObject ?? throw new Aspo.Model.ModelFormatException($"{configPath}: field \"model\" missing");
            decoder = model["decoder"] as JsonObject ?? throw new Aspo.Model.ModelFormatException($"{configPath}: field \"model.decoder\" missing");
            int Int(JsonObject o, string key, string path) => o[key] is JsonValue v && v.TryGetValue<int>(out var x) && x > 0
                ? x : throw new Aspo.Model.ModelFormatException($"{configPath}: field \"{path}\" must be a positive integer");
            layers = Int(decoder, "num_hidden_layers", "model.decoder.num_hidden_layers");
            kv = Int(decoder, "num_key_value_heads", "model.decoder.num_key_value_heads");
            head = Int(decoder, "head_size", "model.decoder.head_size");
            vocab = Int(model, "vocab_size", "model.vocab_size");
            context = Int(model, "context_length", "model.context_length");
            eos = model["eos_token_id"] switch
            {
                JsonArray a => a.Select(x => x!.GetValue<int>()).ToArray(),
                JsonValue v => [v.GetValue<int>()],
                _ => throw new Aspo.Model.ModelFormatException($"{configPath}: field \"model.eos_token_id\" missing"),
            };
            pad = model["pad_token_id"] is JsonValue pv ? pv.GetValue<int>() : eos[0];
            file = decoder["filename"]?.GetValue<string>() ?? DecoderExporter.ModelFile;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new Aspo.Model.ModelFormatException($"{configPath}: {e.Message}");
        }
        var modelPath = Path.Combine(folder, file);
        if (!File.Exists(modelPath))
            throw new Aspo.Model.ModelFormatException($"{modelPath}: model file named by genai_config.json not found");
        var dataPath = Path.Combine(folder, DecoderExporter.DataFile);
        if (!File.Exists(dataPath))
            throw new Aspo.Model.ModelFormatException($"{dataPath}: the external data file of {modelPath} is missing");

        var session = OnnxRuntime.Open(modelPath, settings);
        try
        {
            void Expect(bool ok, string what)
            {
                if (!ok)
                    throw new Aspo.Model.ModelFormatException($"{configPath}: {what} (the graph in {modelPath} disagrees)");
            }
            var logits = session.OutputMetadata.GetValueOrDefault("logits")?.Dimensions;
            Expect(logits is not null && logits[^1] == vocab, $"model.vocab_size {vocab} does not match the logits width {logits?[^1]}");
            var pastKey = session.InputMetadata.GetValueOrDefault("past_key_values.0.key")?.Dimensions;
            Expect(pastKey is not null && pastKey[1] == kv && pastKey[3] == head,
                $"model.decoder.num_key_value_heads {kv} / head_size {head} do not match past_key_values.0.key [{string.Join(", ", pastKey ?? [])}]");
            var graphLayers = session.InputMetadata.Keys.Count(name => name.StartsWith("past_key_values.", StringComparison.Ordinal)) / 2;
            Expect(graphLayers == layers, $"model.decoder.num_hidden_layers {layers} does not match the graph's {graphLayers} layers");
            return new OnnxDecoder(Path.GetFullPath(folder), modelPath, session, layers, kv, head, vocab, context, eos, pad);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The folder's tokenizer.json, checked against the model: every token id it can produce must be a logits row.</summary>
    /// <exception cref="Aspo.Model.ModelFormatException">no tokenizer.json, or one with more ids than the model's vocabulary</exception>
    public Aspo.Data.Tokenization.BpeTokenizer LoadTokenizer()
    {
        var path = Path.Combine(Folder, "tokenizer.json");
        if (!File.Exists(path))
            throw new Aspo.Model.ModelFormatException($"{path}: tokenizer.json not found in the model folder (export with --tokenizer)");
        var tokenizer = Aspo.Data.Tokenization.BpeTokenizer.Load(path);
        if (tokenizer.VocabSize > VocabSize)
            throw new Aspo.Model.ModelFormatException(
                $"{path}: the tokenizer has {tokenizer.VocabSize} token ids but the model's vocabulary ({Path.Combine(Folder, DecoderExporter.GenAiConfigFile)} model.vocab_size) has {VocabSize}");
        return tokenizer;
    }

    /// <summary>
    /// log_softmax(logits/T) of tokens[k…] from one batch-1 prefill of the whole sequence (logits at t−1 score token t),
    /// and the entropies — the exported graph's answer to `aspo logprobs`.
    /// </summary>
    public (float[] LogProbs, float[] Entropies) Score(int[] tokens, int responseStart, float temperature)
    {
        if (responseStart < 1 || responseStart > tokens.Length)
            throw new ArgumentException($"response start {responseStart} must be in [1, {tokens.Length}]");
        var n = tokens.Length;
        var keys = Enumerable.Range(0, Layers).Select(_ => new float[KvHeads * n * HeadSize]).ToArray();
        var values = Enumerable.Range(0, Layers).Select(_ => new float[KvHeads * n * HeadSize]).ToArray();
        var logits = new float[n * VocabSize];
        var mask = new long[n];
        Array.Fill(mask, 1L);
        Forward(tokens.Select(t => (long)t).ToArray(), mask, batch: 1, seq: n, total: n, logits, keys, values, maxLength: n);
        var count = n - responseStart;
        var lp = new float[count];
        var h = new float[count];
        for (var i = 0; i < count; i++)
        {
            var row = logits.AsSpan((responseStart - 1 + i) * VocabSize, VocabSize);
            (lp[i], h[i]) = Sampling.LogProbAndEntropy(row, tokens[responseStart + i], temperature);
        }
        return (lp, h);
    }

    /// <summary>
    /// One forward call. input_ids [batch, seq] (the first batch·seq of <paramref name="ids"/>), attention_mask
    /// [batch, total], logits written to <paramref name="logits"/> [batch, seq, V]; per layer the KV buffers
    /// [batch, KV, maxLength, D] are bound as both past and present, so GQA writes the new rows in place — never
    /// reallocated or copied. Tensors are views over the arrays (pinned for the call).
    /// </summary>
    internal void Forward(long[] ids, long[] mask, int batch, int seq, int total, float[] logits, float[][] keys, float[][] values, int maxLength) =>
        Run(ids, mask, batch, seq, total, keys, values, maxLength,
            [OnnxRuntime.Tensor(logits.AsMemory(0, batch * seq * VocabSize), batch, seq, VocabSize)], _outputNames,
            HasSamplingHead ? HeadDefaults : null, uniforms: null);

    /// <summary>
    /// One forward call through the sampling head: as <see cref="Forward"/>, but instead of logits each of the
    /// <paramref name="batch"/> rows returns its sampled token, log-prob and entropy at its last position, drawn with
    /// <paramref name="uniforms"/>[row] ([batch] fp64 in [0, 1)).
    /// </summary>
    internal void ForwardSampled(long[] ids, long[] mask, int batch, int seq, int total, float[][] keys, float[][] values, int maxLength,
        SamplingParams sampling, double[] uniforms, long[] tokens, float[] logProbs, float[] entropies)
    {
        if (!HasSamplingHead)
            throw new InvalidOperationException($"{ModelPath} has no sampling head (export it with --sampling-head)");
        Run(ids, mask, batch, seq, total, keys, values, maxLength,
            [OnnxRuntime.Tensor(tokens.AsMemory(0, batch), batch), OnnxRuntime.Tensor(logProbs.AsMemory(0, batch), batch),
             OnnxRuntime.Tensor(entropies.AsMemory(0, batch), batch)], _sampledOutputNames, sampling, uniforms);
    }

    /// <summary>
    /// The run both calls share: ids and mask in, <paramref name="firstOutputs"/> then per layer the KV buffers bound as
    /// both past and present; with <paramref name="head"/> the sampling head's inputs too (<paramref name="uniforms"/>
    /// null: zeros). Every value is disposed after the call.
    /// </summary>
    private void Run(long[] ids, long[] mask, int batch, int seq, int total, float[][] keys, float[][] values, int maxLength,
        OrtValue[] firstOutputs, string[] outputNames, SamplingParams? head, double[]? uniforms)
    {
        var inputs = new List<OrtValue>(_sampledInputNames.Length);
        var outputs = new List<OrtValue>(firstOutputs);
        try
        {
            inputs.Add(OnnxRuntime.Tensor(ids.AsMemory(0, batch * seq), batch, seq));
            inputs.Add(OnnxRuntime.Tensor(mask.AsMemory(0, batch * total), batch, total));
            var cacheFloats = batch * KvHeads * maxLength * HeadSize;
            for (var l = 0; l < Layers; l++)
            {
                var k = OnnxRuntime.Tensor(keys[l].AsMemory(0, cacheFloats), batch, KvHeads, maxLength, HeadSize);
                var v = OnnxRuntime.Tensor(values[l].AsMemory(0, cacheFloats), batch, KvHeads, maxLength, HeadSize);
                inputs.AddRange([k, v]);
                outputs.AddRange([k, v]); // the same values: past in, present out
            }
            if (head is not null)
                AddHeadInputs(inputs, head, batch, uniforms);
            OnnxRuntime.Run(Session, ModelPath, head is not null ? _sampledInputNames : _inputNames, inputs, outputNames, outputs);
        }
        finally
        {
            foreach (var value in inputs.Concat(outputs).Distinct())
                value.Dispose();
        }
    }

    private static readonly SamplingParams HeadDefaults = new();

    /// <summary>The head's inputs: temperature, top-k, top-p [1] and the uniforms [batch] (zeros when not given: a
    /// logits-only call). Fresh arrays per call (a few bytes) keep concurrent calls on one decoder independent.</summary>
    private static void AddHeadInputs(List<OrtValue> inputs, SamplingParams sampling, int batch, double[]? uniforms = null)
    {
        inputs.Add(OnnxRuntime.Tensor(new[] { sampling.Temperature }.AsMemory(), 1));
        inputs.Add(OnnxRuntime.Tensor(new[] { (long)sampling.TopK }.AsMemory(), 1));
        inputs.Add(OnnxRuntime.Tensor(new[] { sampling.TopP }.AsMemory(), 1));
        inputs.Add(OnnxRuntime.Tensor((uniforms ?? new double[batch]).AsMemory(0, batch), batch));
    }

    public void Dispose() => Session.Dispose();
}
