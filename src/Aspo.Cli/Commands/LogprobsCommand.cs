using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Aspo.Model;

namespace Aspo.Cli.Commands;

/// <summary>
/// <c>aspo logprobs --model DIR [--temperature T]</c>: scores token sequences with the learner. Reads one JSON object
/// per line on stdin, <c>{"tokens": [ids…], "response_start": k}</c>, and prints one per line,
/// <c>{"logprobs": […], "entropies": […]}</c>, for the tokens at positions k…end (token t's log-prob comes from the
/// logits at t−1). All input is validated before anything is printed.
/// </summary>
internal static class LogprobsCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face model folder (config.json + model.safetensors), or an exported ONNX folder (genai_config.json).", Required = true };
        var temperature = new Option<float>("--temperature") { Description = "Temperature T: log_softmax(logits / T).", DefaultValueFactory = _ => 1f };
        var learnerOptions = new LearnerCliOptions();
        var command = new Command("logprobs", "Score token sequences: per-token log-probs and entropies of the response part, JSON lines in and out.")
        {
            model, temperature,
        };
        learnerOptions.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(() => Run(parse.GetValue(model)!, parse.GetValue(temperature), learnerOptions.Read(parse), Console.In, Console.Out)));
        return command;
    }

    internal static int Run(string modelFolder, float temperature, LearnerOptions learnerOptions, TextReader input, TextWriter output)
    {
        if (!(temperature > 0) || float.IsInfinity(temperature))
            throw new ArgumentException($"--temperature must be a positive number, got {temperature.ToString(CultureInfo.InvariantCulture)}");
        // an exported folder (genai_config.json) is scored by ONNX Runtime; a Hugging Face folder by the learner
        Func<int[], int, (float[], float[])> score;
        int vocab, context;
        string contextSource;
        Aspo.Onnx.OnnxDecoder? onnx = null;
        ILearner? learner = null;
        if (File.Exists(Path.Combine(modelFolder, Aspo.Onnx.DecoderExporter.GenAiConfigFile)))
        {
            onnx = Aspo.Onnx.OnnxDecoder.Open(modelFolder);
            vocab = onnx.VocabSize;
            context = onnx.ContextLength;
            contextSource = "context_length in genai_config.json";
            score = (tokens, start) => onnx.Score(tokens, start, temperature);
        }
        else
        {
            var (config, parameters) = Checkpoint.Load(modelFolder);
            learner = Aspo.Pipeline.Learners.Create(config, parameters, learnerOptions);
            vocab = config.VocabSize;
            context = config.MaxPositionEmbeddings;
            contextSource = "max_position_embeddings in config.json";
            score = (tokens, start) =>
            {
                var lp = new float[tokens.Length - start];
                var h = new float[tokens.Length - start];
                learner.Score(PackedSequences.Pack([(tokens[..start], tokens[start..])]), temperature, lp, h, forTraining: false);
                return (lp, h);
            };
        }
        using var disposeLearner = learner;
        using var disposeOnnx = onnx;
        var requests = ReadRequests(input, vocab, context, contextSource);
        var results = new List<string>(requests.Count);
        foreach (var (tokens, start) in requests)
        {
            var (lp, h) = score(tokens, start);
            results.Add(new JsonObject
            {
                ["logprobs"] = new JsonArray(lp.Select(x => (JsonNode)x).ToArray()),
                ["entropies"] = new JsonArray(h.Select(x => (JsonNode)x).ToArray()),
            }.ToJsonString());
        }
        foreach (var line in results)
            output.WriteLine(line);
        return 0;
    }

    private static List<(int[] Tokens, int Start)> ReadRequests(TextReader input, int vocab, int context, string contextSource)
    {
        var requests = new List<(int[], int)>();
        foreach (var (obj, lineNumber) in JsonLines.ReadObjects(input, "a JSON object"))
        {
            if (obj["tokens"] is not JsonArray tokenArray || tokenArray.Count == 0)
                throw new InvalidDataException($"stdin line {lineNumber}: field \"tokens\" must be a non-empty array of token ids");
            if (tokenArray.Count > context)
                throw new InvalidDataException($"stdin line {lineNumber}: {tokenArray.Count} tokens exceed the model's context of {context} ({contextSource})");
            var tokens = new int[tokenArray.Count];
            for (var i = 0; i < tokens.Length; i++)
            {
                if (tokenArray[i] is not JsonValue v || !v.TryGetValue<int>(out var id) || id < 0 || id >= vocab)
                    throw new InvalidDataException($"stdin line {lineNumber}: tokens[{i}] = {tokenArray[i]?.ToJsonString() ?? "null"} is not a token id in [0, {vocab})");
                tokens[i] = id;
            }
            if (obj["response_start"] is not JsonValue sv || !sv.TryGetValue<int>(out var start) || start < 1 || start > tokens.Length)
                throw new InvalidDataException($"stdin line {lineNumber}: field \"response_start\" must be an integer in [1, {tokens.Length}] (the first scored token needs one before it)");
            requests.Add((tokens, start));
        }
        return requests;
    }
}
