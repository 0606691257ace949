using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Data;
using Aspo.Native.Ort;
using Aspo.Onnx;
using Aspo.Pipeline;
using Aspo.Rewards;

namespace Aspo.Cli.Commands;

/// <summary>
/// <c>aspo eval --model ONNX_DIR --data FILE</c>: n samples per prompt from an exported checkpoint, graded by the reward of
/// each row's data_source, reported as avg@n and pass@k per data_source and overall (a table on stdout, JSON with --out).
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Exported ONNX folder (aspo export).", Required = true };
        var data = new Option<string>("--data") { Description = "Prompt dataset (.parquet or .jsonl), verl layout by default.", Required = true };
        var n = new Option<int>("--n") { Description = "Samples per prompt (avg@n; pass@k for k = 1, 2, 4, … and n).", DefaultValueFactory = _ => 4 };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy.", DefaultValueFactory = _ => 0.6f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus mass (1 = off).", DefaultValueFactory = _ => 0.95f };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Maximum generated tokens per answer.", DefaultValueFactory = _ => 1024 };
        var seed = new Option<ulong>("--seed") { Description = "Master seed (per-sample seeds derive from it).", DefaultValueFactory = _ => 1UL };
        var limit = new Option<int>("--limit") { Description = "Evaluate only the first N prompts (0 = all).", DefaultValueFactory = _ => 0 };
        var promptColumn = new Option<string>("--prompt-column") { Description = "Column with the prompt: a list of {role, content} (verl) or a string.", DefaultValueFactory = _ => "prompt" };
        var answerColumn = new Option<string?>("--answer-column") { Description = "Column with the answer (default: verl's reward_model.ground_truth)." };
        var dataSource = new Option<string>("--data-source") { Description = "data_source of rows in a file without that column.", DefaultValueFactory = _ => "default" };
        var think = new Option<bool>("--require-think-close") { Description = "Math graders read only the text after </think>." };
        var template = new Option<string?>("--chat-template") { Description = $"One of {string.Join(", ", ChatTemplate.Names)}; default: recognised from tokenizer_config.json." };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per generator call.", DefaultValueFactory = _ => 64 };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 0, Description = "ONNX Runtime intra-op threads (0 = its default)." };
        var output = new Option<string?>("--out") { Description = "Also write the report as JSON to this file." };
        var command = new Command("eval", "Evaluate an exported checkpoint on a prompt set: avg@n and pass@k per data_source.")
        {
            model, data, n, temperature, topP, maxNew, seed, limit, promptColumn, answerColumn, dataSource, think, template, batch, threads, output,
        };
        command.SetAction(parse => CommandRunner.Run(() => Run(new EvalRequest(
            parse.GetValue(model)!, parse.GetValue(data)!,
            new DatasetMapping { PromptColumn = parse.GetValue(promptColumn)!, AnswerColumn = parse.GetValue(answerColumn), DefaultDataSource = parse.GetValue(dataSource)! },
            new EvalSettings
            {
                SamplesPerPrompt = parse.GetValue(n), Seed = parse.GetValue(seed), BatchSize = parse.GetValue(batch),
                Sampling = new SamplingParams { Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP), MaxNewTokens = parse.GetValue(maxNew) },
            },
            parse.GetValue(limit), parse.GetValue(think), parse.GetValue(template), parse.GetValue(threads), parse.GetValue(output)), Console.Out)));
        return command;
    }

    internal sealed record EvalRequest(string Model, string Data, DatasetMapping Mapping, EvalSettings Settings, int Limit, bool RequireThinkClose,
                                       string? Template, int Threads, string? OutputPath);

    internal static int Run(EvalRequest request, TextWriter output)
    {
        request.Settings.Validate();
        if (request.Limit < 0)
            throw new ArgumentException($"--limit must be ≥ 0, got {request.Limit}");
        if (request.OutputPath is { } outPath && Path.GetDirectoryName(Path.GetFullPath(outPath)) is { } outDir && !Directory.Exists(outDir))
            throw new ArgumentException($"--out {outPath}: folder {outDir} does not exist");
        var prompts = PromptDataset.Load(request.Data, request.Mapping);
        if (request.Limit > 0)
            prompts = [.. prompts.Take(request.Limit)];
        var rewards = RewardRegistry.CreateDefault(request.RequireThinkClose);
        using var env = new OrtEnvironment();
        using var model = OnnxDecoder.Open(env, request.Model, request.Threads);
        var tokenizer = model.LoadTokenizer();
        var template = request.Template is not null ? ChatTemplate.ByName(request.Template) : ChatTemplate.FromTokenizerConfig(request.Model);
        var result = EvalStage.Run(model, tokenizer, template, rewards, prompts, request.Settings);

        var n = request.Settings.SamplesPerPrompt;
        var s = request.Settings.Sampling;
        output.WriteLine($"model: {Path.GetFullPath(request.Model)}");
        output.WriteLine($"data:  {Path.GetFullPath(request.Data)}: {prompts.Count} prompts × {n} samples, temperature {F(s.Temperature)}, " +
                         $"top-p {F(s.TopP)}, ≤ {s.MaxNewTokens} new tokens, seed {request.Settings.Seed}, template {template.Name}");
        var ks = result.Summaries[0].PassAtK.Select(x => x.K).ToList();
        var width = Math.Max(12, result.Summaries.Max(x => x.DataSource.Length));
        output.WriteLine($"{"data_source".PadRight(width)}  prompts  {$"avg@{n}",8}  {"score",8}" + string.Concat(ks.Select(k => $"  {$"pass@{k}",8}")));
        foreach (var summary in result.Summaries)
        {
            output.WriteLine($"{summary.DataSource.PadRight(width)}  {summary.Prompts,7}  {F(summary.AvgAtN),8}  {F(summary.MeanScore),8}" +
                             string.Concat(summary.PassAtK.Select(x => $"  {F(x.PassAtK),8}")));
        }
        if (request.OutputPath is { } path)
            WriteReport(path, request, prompts.Count, template.Name, result);
        return 0;
    }

    private static string F(double x) => x.ToString("0.0000", CultureInfo.InvariantCulture);

    // written to a temporary file and moved into place: a reader never sees half a report
    private static void WriteReport(string path, EvalRequest request, int prompts, string template, EvalResult result)
    {
        var s = request.Settings;
        var report = new JsonObject
        {
            ["model"] = Path.GetFullPath(request.Model), ["data"] = Path.GetFullPath(request.Data), ["prompts"] = prompts,
            ["samples_per_prompt"] = s.SamplesPerPrompt, ["temperature"] = s.Sampling.Temperature, ["top_p"] = s.Sampling.TopP,
            ["max_new_tokens"] = s.Sampling.MaxNewTokens, ["seed"] = s.Seed, ["chat_template"] = template, ["require_think_close"] = request.RequireThinkClose,
            ["summaries"] = new JsonArray([.. result.Summaries.Select(x => (JsonNode)new JsonObject
            {
                ["data_source"] = x.DataSource, ["prompts"] = x.Prompts, ["samples"] = x.Samples, ["avg_at_n"] = x.AvgAtN, ["mean_score"] = x.MeanScore,
                ["pass_at_k"] = new JsonObject(x.PassAtK.Select(p => KeyValuePair.Create(p.K.ToString(CultureInfo.InvariantCulture), (JsonNode?)p.PassAtK))),
            })]),
        };
        var full = Path.GetFullPath(path);
        var temp = full + ".tmp";
        File.WriteAllText(temp, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temp, full, overwrite: true);
    }
}
