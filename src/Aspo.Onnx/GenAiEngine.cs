using System.Globalization;
using Aspo.Data.Tokenization;
using Oga = Microsoft.ML.OnnxRuntimeGenAI;

namespace Aspo.Onnx;

/// <summary>
/// ONNX Runtime GenAI (<c>Microsoft.ML.OnnxRuntimeGenAI</c> 0.18, on the same ONNX Runtime as ours) as a sampling
/// engine for <c>eval</c> and <c>generate</c>: requests go to GenAI in batches of <see cref="BatchSize"/> rows (n
/// samples of a prompt are n rows), GenAI pads and decodes them with its own search (greedy, or sampling with
/// temperature, top-k, top-p), and the log-probs and entropies of the chosen tokens are computed from the logits GenAI
/// returns, as <c>log_softmax(z / T)</c> in fp32 like ours. What GenAI 0.18 cannot do is refused with one line: stop
/// strings and extra stop tokens. Seeds: GenAI has one random seed per generator, so a sample depends on its batch — each
/// batch is seeded from its first request's seed (deterministic for a fixed batch size, not batch-independent as ours).
/// </summary>
public sealed class GenAiEngine : ISamplingEngine, IDisposable
{
    private readonly OnnxDecoder _decoder;
    private readonly BpeTokenizer _tokenizer;
    private readonly Oga.Config _config;
    private readonly Oga.Model _model;
    private readonly Oga.Tokenizer _sequences; // GenAI's Sequences come only from its tokenizer; we append our ids

    /// <param name="decoder">the same folder opened by us: its validated genai_config.json values (EOS, vocabulary)</param>
    /// <param name="threads">ONNX Runtime intra-op threads for GenAI's session (0 = its default)</param>
    /// <param name="device">"cpu", or "cuda"/"cuda:N" with the CUDA packages (-p:OnnxBackend=cuda: Microsoft.ML.OnnxRuntimeGenAI.Cuda 0.18.0)</param>
    public GenAiEngine(OnnxDecoder decoder, BpeTokenizer tokenizer, int threads = 0, string device = "cpu")
    {
        _decoder = decoder;
        _tokenizer = tokenizer;
        if (decoder.HasSamplingHead)
            throw new ArgumentException($"{decoder.Folder} was exported with --sampling-head, whose inputs ONNX Runtime GenAI does not feed; export it without the head for --engine genai");
        _ = OnnxRuntime.Version; // one ONNX Runtime environment for the process, created with our options first
        try
        {
            _config = new Oga.Config(decoder.Folder);
            if (threads > 0)
                _config.Overlay($"{{\"model\": {{\"decoder\": {{\"session_options\": {{\"intra_op_num_threads\": {threads.ToString(CultureInfo.InvariantCulture)}}}}}}}}}");
            if (device != "cpu")
            {
                // the same as "provider_options": [{"cuda": {"device_id": "N"}}] in genai_config.json's session_options
                if (!OnnxRuntime.Providers.Contains("CUDAExecutionProvider"))
                    throw new ArgumentException($"--engine genai on {device}: this build ({OnnxRuntime.Package}) has no CUDA execution provider; build with -p:{OnnxRuntime.BackendProperty}=cuda (Microsoft.ML.OnnxRuntimeGenAI.Cuda 0.18.0)");
                _config.ClearProviders();
                _config.AppendProvider("cuda");
                if (device.StartsWith("cuda:", StringComparison.Ordinal))
                    _config.SetProviderOption("cuda", "device_id", device[5..]);
            }
            _model = new Oga.Model(_config);
            _sequences = new Oga.Tokenizer(_model);
        }
        catch (Oga.OnnxRuntimeGenAIException e)
        {
            Dispose();
            throw new Aspo.Model.ModelFormatException($"{decoder.Folder}: ONNX Runtime GenAI cannot load this folder: {e.Message}");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name => SamplingEngines.GenAi;

    /// <summary>The largest batch a GenAI 0.18 generator accepts.</summary>
    public const int MaxBatch = 32;

    private int _batchSize = 16;

    /// <summary>Rows per GenAI generator (its batch is fixed when created); larger values are capped at <see cref="MaxBatch"/>.</summary>
    public int BatchSize
    {
        get => _batchSize;
        set => _batchSize = value < 1 ? throw new ArgumentException($"batch size must be at least 1, got {value}") : Math.Min(value, MaxBatch);
    }

    public Action<int, long>? OnProgress { get; set; }

    /// <summary>Refuses, in one line each, what GenAI 0.18 cannot honour.</summary>
    public static void CheckSupported(SamplingParams sampling, IReadOnlyList<int> eosTokenIds)
    {
        if (sampling.StopStrings.Count > 0)
            throw new ArgumentException($"--engine genai cannot stop at stop strings ({string.Join(", ", sampling.StopStrings.Select(s => $"\"{s}\""))}): ONNX Runtime GenAI 0.18 has none; use --engine aspo");
        if (sampling.StopTokenIds.Any(t => !eosTokenIds.Contains(t)))
            throw new ArgumentException("--engine genai stops only at the model's EOS tokens (genai_config.json eos_token_id); extra stop tokens need --engine aspo");
    }

    public IReadOnlyList<GenerationResult> Generate(IReadOnlyList<GenerationRequest> requests, SamplingParams sampling)
    {
        sampling.Validate();
        CheckSupported(sampling, _decoder.EosTokenIds);
        var vocab = _decoder.VocabSize;
        foreach (var r in requests)
            if (r.PromptIds.Length == 0 || r.PromptIds.Any(t => (uint)t >= (uint)vocab))
                throw new ArgumentException($"a prompt is empty or has a token id outside [0, {vocab})");
        var results = new GenerationResult[requests.Count];
        long generated = 0;
        var finished = 0;
        for (var start = 0; start < requests.Count; start += BatchSize)
        {
            var chunk = requests.Skip(start).Take(BatchSize).ToArray();
            GenerationResult[] done;
            try
            {
                done = RunBatch(chunk, sampling, (tokens, rows) => OnProgress?.Invoke(finished + rows, generated + tokens));
            }
            catch (Oga.OnnxRuntimeGenAIException e)
            {
                throw new OnnxRunException($"{_decoder.Folder}: ONNX Runtime GenAI failed: {e.Message}", e);
            }
            done.CopyTo(results, start);
            finished += done.Length;
            generated += done.Sum(r => (long)r.Tokens.Length);
        }
        return results;
    }

    private GenerationResult[] RunBatch(GenerationRequest[] batch, SamplingParams sampling, Action<long, int> progress)
    {
        var vocab = _decoder.VocabSize;
        var width = batch.Max(r => r.PromptIds.Length);
        var maxLength = width + sampling.MaxNewTokens;
        if (maxLength > _decoder.ContextLength)
            throw new ArgumentException($"prompt ({width}) + max new tokens ({sampling.MaxNewTokens}) exceeds the model's context length {_decoder.ContextLength}");
        var greedy = sampling.Temperature == 0;
        var temperature = greedy ? 1f : sampling.Temperature; // log-probs at T = 1 when greedy, as ours
        using var parameters = new Oga.GeneratorParams(_model);
        parameters.SetSearchOption("batch_size", batch.Length);
        parameters.SetSearchOption("max_length", maxLength);
        parameters.SetSearchOption("do_sample", !greedy);
        if (!greedy)
        {
            parameters.SetSearchOption("temperature", sampling.Temperature);
            parameters.SetSearchOption("top_p", sampling.TopP);
            parameters.SetSearchOption("top_k", sampling.TopK > 0 ? sampling.TopK : vocab); // 0 = off here, "all tokens" for GenAI
            parameters.SetSearchOption("random_seed", (int)(batch[0].Seed & int.MaxValue));
        }
        using var generator = new Oga.Generator(_model, parameters);
        using (var sequences = _sequences.EncodeBatch(batch.Select(_ => "").ToArray()))
        {
            for (var r = 0; r < batch.Length; r++)
                foreach (var token in batch[r].PromptIds)
                    sequences.Append(token, (ulong)r);
            generator.AppendTokenSequences(sequences);
        }
        var stops = new HashSet<int>(_decoder.EosTokenIds);
        var rows = batch.Select(r => new RowState(r.PromptIds.Length, sampling.RecordEntropy)).ToArray();
        long tokens = 0;
        for (var step = 0; step < sampling.MaxNewTokens && !rows.All(r => r.Done) && !generator.IsDone(); step++)
        {
            generator.GenerateNextToken();
            var next = generator.GetNextTokens();
            // the logits the step's tokens were chosen from: the prefill's at each row's last prompt token, then [B, 1, V]
            using var output = generator.GetOutput("logits");
            var logits = output.GetData<float>();
            var columns = (int)output.Shape()[1];
            for (var r = 0; r < batch.Length; r++)
            {
                var row = rows[r];
                if (row.Done)
                    continue;
                var column = step == 0 ? row.PromptLength - 1 : columns - 1;
                var z = logits.Slice((r * columns + column) * vocab, vocab);
                var (logProb, entropy) = Sampling.LogProbAndEntropy(z, next[r], temperature);
                row.Add(next[r], logProb, entropy, stops.Contains(next[r]), sampling.MaxNewTokens);
                tokens++;
            }
            progress(tokens, rows.Count(r => r.Done));
        }
        return rows.Select(r => r.Result(_tokenizer)).ToArray();
    }

    private sealed class RowState(int promptLength, bool recordEntropy)
    {
        private readonly List<int> _tokens = [];
        private readonly List<float> _logProbs = [];
        private readonly List<float>? _entropies = recordEntropy ? [] : null;
        private string _finish = "length";

        public int PromptLength { get; } = promptLength;
        public bool Done { get; private set; }

        public void Add(int token, float logProb, float entropy, bool stop, int maxNewTokens)
        {
            _tokens.Add(token);
            _logProbs.Add(logProb);
            _entropies?.Add(entropy);
            if (stop)
            {
                Done = true;
                _finish = "stop";
            }
            else if (_tokens.Count >= maxNewTokens)
                Done = true;
        }

        public GenerationResult Result(BpeTokenizer tokenizer) =>
            new([.. _tokens], [.. _logProbs], _entropies?.ToArray(), _finish, tokenizer.Decode(_tokens.ToArray()));
    }

    public void Dispose()
    {
        _sequences?.Dispose();
        _model?.Dispose();
        _config?.Dispose();
    }
}
