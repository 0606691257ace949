using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Native.Ort;

namespace Aspo.Onnx;

/// <summary>
/// An exported decoder folder opened for generation: genai_config.json (validated against the graph) and an ONNX
/// Runtime session on model.onnx (its external data found next to it).
/// </summary>
public sealed class OnnxDecoder : IDisposable
{
    private OnnxDecoder(string folder, OrtSession session, int layers, int kvHeads, int headSize, int vocab, int context, int[] eos, int pad)
    {
        Folder = folder;
        Session = session;
        Layers = layers;
        KvHeads = kvHeads;
        HeadSize = headSize;
        VocabSize = vocab;
        ContextLength = context;
        EosTokenIds = eos;
        PadTokenId = pad;
    }

    public string Folder { get; }
    public OrtSession Session { get; }
    public int Layers { get; }
    public int KvHeads { get; }
    public int HeadSize { get; }
    public int VocabSize { get; }
    public int ContextLength { get; }
    public IReadOnlyList<int> EosTokenIds { get; }
    public int PadTokenId { get; }

    /// <summary>Opens <paramref name="folder"/>; <paramref name="threads"/> = ORT intra-op threads (0: its default).</summary>
    /// <param name="allowSpinning">false when the learner shares the cores: idle ORT threads then sleep instead of spinning</param>
    /// <exception cref="Aspo.Model.ModelFormatException">missing files, a genai_config.json that disagrees with the graph</exception>
    public static OnnxDecoder Open(OrtEnvironment env, string folder, int threads = 0, bool allowSpinning = true)
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

        using var options = new OrtSessionOptions();
        options.SetIntraOpThreads(threads);
        options.SetGraphOptimizationLevel(OrtGraphOptimizationLevel.All);
        if (!allowSpinning)
            options.AddConfigEntry("session.intra_op.allow_spinning", "0");
        var session = OrtSession.FromFile(env, modelPath, options);
        try
        {
            void Expect(bool ok, string what)
            {
                if (!ok)
                    throw new Aspo.Model.ModelFormatException($"{configPath}: {what} (the graph in {modelPath} disagrees)");
            }
            var logits = session.Outputs.FirstOrDefault(o => o.Name == "logits");
            Expect(logits is not null && logits.Shape[^1] == vocab, $"model.vocab_size {vocab} does not match the logits width {logits?.Shape[^1]}");
            var pastKey = session.Inputs.FirstOrDefault(i => i.Name == "past_key_values.0.key");
            Expect(pastKey is not null && pastKey.Shape[1] == kv && pastKey.Shape[3] == head,
                $"model.decoder.num_key_value_heads {kv} / head_size {head} do not match past_key_values.0.key [{string.Join(", ", pastKey?.Shape ?? [])}]");
            Expect(session.Inputs.Count(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal)) == 2 * layers,
                $"model.decoder.num_hidden_layers {layers} does not match the graph's {session.Inputs.Count(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal)) / 2} layers");
            return new OnnxDecoder(Path.GetFullPath(folder), session, layers, kv, head, vocab, context, eos, pad);
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
        var inputs = new List<OrtValue>();
        var outputs = new List<OrtValue>();
        try
        {
            var ids = tokens.Select(t => (long)t).ToArray();
            var mask = Enumerable.Repeat(1L, n).ToArray();
            var names = new List<string> { "input_ids", "attention_mask" };
            var outNames = new List<string> { "logits" };
            inputs.Add(OrtValue.FromMemory<long>(ids, [1, n]));
            inputs.Add(OrtValue.FromMemory<long>(mask, [1, n]));
            outputs.Add(OrtValue.FromMemory<float>(logits, [1, n, VocabSize]));
            for (var l = 0; l < Layers; l++)
            {
                var k = OrtValue.FromMemory<float>(keys[l], [1, KvHeads, n, HeadSize]);
                var v = OrtValue.FromMemory<float>(values[l], [1, KvHeads, n, HeadSize]);
                inputs.AddRange([k, v]);
                outputs.AddRange([k, v]);
                names.AddRange([$"past_key_values.{l}.key", $"past_key_values.{l}.value"]);
                outNames.AddRange([$"present.{l}.key", $"present.{l}.value"]);
            }
            Session.Run(names.ToArray(), inputs.ToArray(), outNames.ToArray(), outputs.Select(o => (OrtValue?)o).ToArray());
        }
        finally
        {
            foreach (var value in inputs.Concat(outputs).Distinct())
                value.Dispose();
        }
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

    public void Dispose() => Session.Dispose();
}
