using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Data;
using Aspo.Onnx;

namespace Aspo.Cli.Commands;

/// <summary>
/// <c>aspo generate --model ONNX_DIR [--prompt TEXT | stdin]</c>: samples completions with the generator and prints
/// one JSON object per sample: the text, the tokens and their log-probs, and the finish reason.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Exported ONNX folder (aspo export).", Required = true };
        var prompt = new Option<string?>("--prompt") { Description = "User message; without it, one JSON object {\"prompt\": …} per line on stdin." };
        var n = new Option<int>("--n") { Description = "Samples per prompt.", DefaultValueFactory = _ => 1 };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy.", DefaultValueFactory = _ => 1f };
        var topP = new Option<float>("--top-p") { DefaultValueFactory = _ => 1f, Description = "Nucleus mass (1 = off)." };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => 0, Description = "Top-k (0 = off)." };
        var maxNew = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 256, Description = "Maximum generated tokens." };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 1UL, Description = "Master seed (per-sample seeds derive from it)." };
        var template = new Option<string?>("--chat-template") { Description = $"One of {string.Join(", ", ChatTemplate.Names)}; default: recognised from tokenizer_config.json." };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 0, Description = "ONNX Runtime intra-op threads (0 = its default)." };
        var engine = EvalCommand.EngineOption();
        var command = new Command("generate", "Sample completions from an exported model and print them with their token log-probs.")
        {
            model, prompt, n, temperature, topP, topK, maxNew, seed, template, threads, engine,
        };
        command.SetAction(parse => CommandRunner.Run(() => Run(parse.GetValue(model)!, parse.GetValue(prompt), parse.GetValue(n),
            new SamplingParams { Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP), TopK = parse.GetValue(topK), MaxNewTokens = parse.GetValue(maxNew) },
            parse.GetValue(seed), parse.GetValue(template), parse.GetValue(threads), Console.In, Console.Out,
            SamplingEngines.Check(parse.GetValue(engine)!, "--engine"))));
        return command;
    }

    internal static int Run(string folder, string? prompt, int n, SamplingParams sampling, ulong seed, string? templateName, int threads, TextReader input, TextWriter output,
        string engine = SamplingEngines.Aspo)
    {
        if (n < 1)
            throw new ArgumentException($"--n must be at least 1, got {n}");
        sampling.Validate();
        var prompts = prompt is not null ? [prompt] : ReadPrompts(input);
        SampleBudget.Check($"--n {n} × {prompts.Count} prompt{(prompts.Count == 1 ? "" : "s")}", (long)n * prompts.Count, sampling.MaxNewTokens);
        using var model = OnnxDecoder.Open(folder, threads);
        var tokenizer = model.LoadTokenizer();
        var template = templateName is not null ? ChatTemplate.ByName(templateName) : ChatTemplate.FromTokenizerConfig(folder);
        var requests = new List<GenerationRequest>();
        for (var i = 0; i < prompts.Count; i++)
        {
            var ids = tokenizer.Encode(template.Render([new ChatMessage("user", prompts[i])], addGenerationPrompt: true));
            for (var s = 0; s < n; s++)
                requests.Add(new GenerationRequest(ids, SampleSeeds.Derive(seed, 0, i.ToString(CultureInfo.InvariantCulture), s)));
        }
        if (engine == SamplingEngines.GenAi)
            GenAiEngine.CheckSupported(sampling, model.EosTokenIds);
        using var genAi = engine == SamplingEngines.GenAi ? new GenAiEngine(model, tokenizer, threads) : null;
        ISamplingEngine sampler = genAi is null ? new Generator(model, tokenizer) : genAi;
        var results = sampler.Generate(requests, sampling);
        var options = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        for (var i = 0; i < results.Count; i++)
            output.WriteLine(new JsonObject
            {
                ["prompt_index"] = i / n, ["sample_index"] = i % n, ["text"] = results[i].Text, ["finish_reason"] = results[i].FinishReason,
                ["tokens"] = new JsonArray(results[i].Tokens.Select(t => (JsonNode)t).ToArray()),
                ["logprobs"] = new JsonArray(results[i].LogProbs.Select(x => (JsonNode)x).ToArray()),
            }.ToJsonString(options));
        return 0;
    }

    private static List<string> ReadPrompts(TextReader input)
    {
        var prompts = new List<string>();
        foreach (var (obj, lineNumber) in JsonLines.ReadObjects(input, "{\"prompt\": \"…\"}"))
            prompts.Add(JsonLines.RequiredString(obj, "prompt", lineNumber));
        if (prompts.Count == 0)
            throw new InvalidDataException("no prompts: pass --prompt or JSON lines {\"prompt\": …} on stdin");
        return prompts;
    }
}
