using Aspo.Data;
using Aspo.Model;
using Aspo.Native.Files;
using Aspo.Onnx;

namespace Aspo.Pipeline;

/// <summary>
/// Evaluation of a checkpoint on jobs (suites or prompt sets), for the run loop's eval stage and for <c>aspo eval</c>:
/// an HF checkpoint folder is exported to a temporary ONNX folder first (removed afterwards), an exported folder is used
/// as it is; each job's table is printed and its result returned.
/// </summary>
public static class EvalStep
{
    /// <param name="model">an HF checkpoint folder or an exported ONNX folder</param>
    /// <param name="temporaryParent">where an HF checkpoint's temporary export goes</param>
    /// <param name="chatTemplate">a template name, or null for the one recognised in the model's tokenizer_config.json</param>
    /// <param name="describe">called once the model is open, with its chat template and whether it was exported here</param>
    /// <param name="engine">"aspo" (ours) or "genai" (ONNX Runtime GenAI)</param>
    public static IReadOnlyList<SuiteResult> Run(string model, IReadOnlyList<EvalJob> jobs, string temporaryParent, string? chatTemplate, int threads,
        TextWriter output, Action<ChatTemplate, bool>? describe = null, string engine = SamplingEngines.Aspo)
    {
        SamplingEngines.Check(engine, "engine");
        foreach (var job in jobs)
        {
            job.Settings.Validate();
            foreach (var source in job.Prompts.Select(p => p.DataSource).Distinct())
                job.Rewards.Resolve(source);
        }
        var full = Path.GetFullPath(model);
        var exportHere = !File.Exists(Path.Combine(full, DecoderExporter.GenAiConfigFile)) && File.Exists(Path.Combine(full, Checkpoint.ConfigFile));
        var onnx = exportHere ? AtomicFile.TemporaryPath(Path.Combine(temporaryParent, "eval-onnx")) : full;
        try
        {
            if (exportHere)
            {
                var (config, parameters) = Checkpoint.Load(full);
                DecoderExporter.Export(config, parameters, onnx, full, new ExportOptions());
            }
            using var decoder = OnnxDecoder.Open(onnx, threads); // names what is missing in a folder that is neither
            var tokenizer = decoder.LoadTokenizer();
            if (engine == SamplingEngines.GenAi)
                foreach (var job in jobs)
                    GenAiEngine.CheckSupported(job.Settings.Sampling, decoder.EosTokenIds); // before loading GenAI or sampling anything
            using var genAi = engine == SamplingEngines.GenAi ? new GenAiEngine(decoder, tokenizer, threads) : null;
            var template = chatTemplate is not null ? ChatTemplate.ByName(chatTemplate) : ChatTemplate.FromTokenizerConfig(onnx);
            describe?.Invoke(template, exportHere);
            var results = new List<SuiteResult>();
            foreach (var job in jobs)
            {
                var result = EvalStage.Run(decoder, tokenizer, template, job.Rewards, job.Prompts, job.Settings, genAi);
                var suiteResult = new SuiteResult(job.Name, job.Prompts.Count, job.Settings, result.Summaries);
                results.Add(suiteResult);
                output.Write(EvalReport.Table(suiteResult));
            }
            return results;
        }
        finally
        {
            if (exportHere && Directory.Exists(onnx))
                Directory.Delete(onnx, recursive: true);
        }
    }

    /// <summary>The run loop's eval stage: policy i on every suite of the configuration, one metrics row per suite.</summary>
    public static void Run(RunContext run, int iteration)
    {
        if (iteration != 0)
            run.RequireIteration(iteration);
        var c = run.Config;
        var jobs = run.Suites.Select(s => EvalJob.FromSuite(s, c.Eval.Limit, c.Eval.SamplesPerPrompt)).ToList();
        var results = Run(run.Directory.PolicyFolder(iteration), jobs, run.Directory.IterationFolder(iteration), c.Model.ChatTemplate, c.Run.Threads,
            run.Log.Writer, engine: c.Eval.Engine);
        foreach (var result in results)
            run.Metrics.Append(EvalReport.MetricsRow(result, iteration));
    }
}
