using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Data;
using Aspo.Native.Files;
using Aspo.Onnx;
using Aspo.Pipeline;
using Aspo.Rewards;

namespace Aspo.Cli.Commands;

/// <summary>
/// <c>aspo eval --model DIR (--suite FILE … | --data FILE)</c>: n samples per prompt from a checkpoint (an exported ONNX
/// folder, or an HF folder exported on the fly), graded by the reward of each row's data_source, reported per suite and
/// data_source as avg@n, pass@k, maj@k, mean length and truncation rate (a table on stdout, JSON with --out, metric rows
/// appended to a run's metrics.jsonl with --metrics).
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Exported ONNX folder (aspo export), or an HF checkpoint folder (exported to a temporary folder first).", Required = true };
        var suites = new Option<string[]>("--suite") { Description = "Suite file(s) (YAML, see datasets/suites/); sampling comes from the suite unless given below.", AllowMultipleArgumentsPerToken = false };
        var data = new Option<string?>("--data") { Description = "Instead of a suite: one prompt dataset (.parquet or .jsonl), verl layout by default." };
        // sampling options have no fixed default: a suite's own settings win unless the option is given; with --data the
        // defaults in brackets apply (reasoning-model evaluation: T 0.6, top-p 0.95)
        var n = new Option<int?>("--n") { Description = "Samples per prompt (avg@n; pass@k for k = 1, 2, 4, … and n). Default: the suite's; 4 with --data." };
        var temperature = new Option<float?>("--temperature") { Description = "0 = greedy. Default: the suite's; 0.6 with --data." };
        var topP = new Option<float?>("--top-p") { Description = "Nucleus mass (1 = off). Default: the suite's; 0.95 with --data." };
        var topK = new Option<int?>("--top-k") { Description = "Keep the k most likely tokens (0 = off). Default: the suite's; 0 with --data." };
        var maxNew = new Option<int?>("--max-new-tokens") { Description = "Maximum generated tokens per answer. Default: the suite's; 1024 with --data." };
        var seed = new Option<ulong?>("--seed") { Description = "Master seed (per-sample seeds derive from it). Default: the suite's; 1 with --data." };
        var limit = new Option<int>("--limit") { Description = "Evaluate only the first N prompts of each dataset (0 = all).", DefaultValueFactory = _ => 0 };
        var promptColumn = new Option<string>("--prompt-column") { Description = "With --data: column with the prompt (a list of {role, content}, or a string).", DefaultValueFactory = _ => "prompt" };
        var answerColumn = new Option<string?>("--answer-column") { Description = "With --data: column with the answer (default: verl's reward_model.ground_truth)." };
        var dataSource = new Option<string>("--data-source") { Description = "With --data: data_source of rows in a file without that column.", DefaultValueFactory = _ => "default" };
        var think = new Option<bool>("--require-think-close") { Description = "Math graders read only the text after </think>." };
        var template = new Option<string?>("--chat-template") { Description = $"One of {string.Join(", ", ChatTemplate.Names)}; default: recognised from tokenizer_config.json." };
        var batch = new Option<int?>("--batch-size") { Description = "Sequences decoding at once. Default: the suite's; 64 with --data." };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 0, Description = "ONNX Runtime intra-op threads (0 = its default)." };
        var output = new Option<string?>("--out") { Description = "Also write the report (every suite) as JSON to this file." };
        var metrics = new Option<string?>("--metrics") { Description = "Append one metrics row per suite (verl val-core/… names) to this metrics.jsonl." };
        var iteration = new Option<int>("--iteration") { Description = "Iteration recorded in the metrics rows.", DefaultValueFactory = _ => 0 };
        var engine = EngineOption();
        var command = new Command("eval", "Evaluate a checkpoint on suites or a prompt set: avg@n, pass@k, maj@k, length and truncation per data_source.")
        {
            model, suites, data, n, temperature, topP, topK, maxNew, seed, limit, promptColumn, answerColumn, dataSource, think, template, batch, threads,
            output, metrics, iteration, engine,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            // command-line sampling applies to --data always, and to a suite only where given
            EvalSettings Override(EvalSettings s) => s with
            {
                SamplesPerPrompt = parse.GetValue(n) ?? s.SamplesPerPrompt,
                Ks = parse.GetValue(n) is null ? s.Ks : null,
                Seed = parse.GetValue(seed) ?? s.Seed,
                BatchSize = parse.GetValue(batch) ?? s.BatchSize,
                Sampling = s.Sampling with
                {
                    Temperature = parse.GetValue(temperature) ?? s.Sampling.Temperature,
                    TopP = parse.GetValue(topP) ?? s.Sampling.TopP,
                    TopK = parse.GetValue(topK) ?? s.Sampling.TopK,
                    MaxNewTokens = parse.GetValue(maxNew) ?? s.Sampling.MaxNewTokens,
                },
            };
            var request = new EvalRequest(parse.GetValue(model)!, parse.GetValue(suites) ?? [], parse.GetValue(data),
                new DatasetMapping { PromptColumn = parse.GetValue(promptColumn)!, AnswerColumn = parse.GetValue(answerColumn), DefaultDataSource = parse.GetValue(dataSource)! },
                Override(new EvalSettings()), // with --data: EvalSettings' defaults, then the options given
                Override, parse.GetValue(limit), parse.GetValue(think), parse.GetValue(template), parse.GetValue(threads), parse.GetValue(output),
                parse.GetValue(metrics), parse.GetValue(iteration), SamplingEngines.Check(parse.GetValue(engine)!, "--engine"));
            return Run(request, Console.Out);
        }));
        return command;
    }

    internal sealed record EvalRequest(string Model, IReadOnlyList<string> Suites, string? Data, DatasetMapping Mapping, EvalSettings DataSettings,
                                       Func<EvalSettings, EvalSettings> SuiteOverride, int Limit, bool RequireThinkClose, string? Template, int Threads,
                                       string? OutputPath, string? MetricsPath, int Iteration, string Engine = SamplingEngines.Aspo);

    /// <summary>--engine: ours or ONNX Runtime GenAI.</summary>
    internal static Option<string> EngineOption() => new("--engine")
    {
        Description = "Sampling engine: aspo (ours: per-sample seeds, stop strings) or genai (ONNX Runtime GenAI 0.18; one seed per batch, EOS stops only).",
        DefaultValueFactory = _ => SamplingEngines.Aspo,
    };

    internal static int Run(EvalRequest request, TextWriter output)
    {
        if ((request.Suites.Count > 0) == (request.Data is not null))
            throw new ArgumentException("give either --suite (one or more) or --data, not both and not neither");
        if (request.Limit < 0)
            throw new ArgumentException($"--limit must be ≥ 0, got {request.Limit}");
        // outputs checked before any work: an unwritable --out or --metrics fails now, not after the evaluation
        foreach (var (option, file) in new[] { ("--out", request.OutputPath), ("--metrics", request.MetricsPath) })
        {
            if (file is not null)
                CheckWritable(option, file);
        }
        // everything is read and checked before the model is loaded: bad input costs nothing
        var jobs = new List<EvalJob>();
        if (request.Data is { } dataFile)
        {
            var prompts = PromptDataset.Load(dataFile, request.Mapping);
            jobs.Add(new EvalJob(Path.GetFileName(dataFile), request.Limit > 0 ? [.. prompts.Take(request.Limit)] : prompts, request.DataSettings,
                RewardRegistry.CreateDefault(request.RequireThinkClose)));
        }
        foreach (var file in request.Suites)
        {
            var suite = EvalSuite.Load(file);
            var job = EvalJob.FromSuite(suite, request.Limit, 0, request.RequireThinkClose);
            jobs.Add(job with { Settings = request.SuiteOverride(suite.Settings) });
        }
        foreach (var job in jobs)
            SampleBudget.Check($"{job.Name}: {job.Prompts.Count} prompts × n = {job.Settings.SamplesPerPrompt}", (long)job.Prompts.Count * job.Settings.SamplesPerPrompt,
                job.Settings.Sampling.MaxNewTokens);
        if (!File.Exists(Path.Combine(request.Model, "config.json")) && !File.Exists(Path.Combine(request.Model, DecoderExporter.GenAiConfigFile)))
            throw new ArgumentException(Directory.Exists(request.Model)
                ? $"--model {Path.GetFullPath(request.Model)}: neither an HF checkpoint folder (config.json) nor an exported ONNX folder (genai_config.json)"
                : $"--model {Path.GetFullPath(request.Model)}: folder does not exist");
        // a run's metrics file is shared with the run: hold its lock while this evaluation adds to it
        using var metricsLock = request.MetricsPath is { } m ? DirectoryLock.Acquire(Path.GetDirectoryName(Path.GetFullPath(m))!, "aspo eval --metrics") : null;
        var templateName = "";
        var results = EvalStep.Run(request.Model, jobs, Path.GetTempPath(), request.Template, request.Threads, output, (template, exported) =>
        {
            templateName = template.Name;
            output.WriteLine($"model: {Path.GetFullPath(request.Model)}{(exported ? " (exported to ONNX for this evaluation)" : "")}, chat template {template.Name}{(request.Engine == SamplingEngines.GenAi ? ", engine ONNX Runtime GenAI" : "")}");
        }, request.Engine);
        if (request.OutputPath is { } path)
        {
            var report = new JsonObject
            {
                ["model"] = Path.GetFullPath(request.Model), ["chat_template"] = templateName,
                ["suites"] = new JsonArray([.. results.Select(r => (JsonNode)EvalReport.Json(r))]),
            };
            AtomicFile.WriteAllText(Path.GetFullPath(path), report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        if (request.MetricsPath is { } metricsPath)
        {
            // evaluating the same suite at the same iteration again replaces its row
            var rows = results.Select(r => EvalReport.MetricsRow(r, request.Iteration)).ToList();
            MetricsLog.DropRows(metricsPath, row => row["kind"]?.GetValue<string>() == MetricsLog.Eval && row["iteration"]?.GetValue<int>() == request.Iteration
                && rows.Any(r => r["suite"]!.GetValue<string>() == row["suite"]?.GetValue<string>()));
            MetricsLog.AppendRows(metricsPath, rows);
        }
        return 0;
    }

    /// <summary>A file this command will write: its folder exists and takes a new file.</summary>
    private static void CheckWritable(string option, string file)
    {
        var full = Path.GetFullPath(file);
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new ArgumentException($"{option} {file}: folder {folder} does not exist");
        if (Directory.Exists(full))
            throw new ArgumentException($"{option} {file} is a folder; expected a file");
        var probe = AtomicFile.TemporaryPath(full);
        try
        {
            File.WriteAllText(probe, "");
            File.Delete(probe);
            if (File.Exists(full))
                using (new FileStream(full, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{option} {file}: cannot be written ({e.Message})");
        }
    }
}

