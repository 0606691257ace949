using System.CommandLine;
using Aspo.Model;
using Aspo.Onnx;

namespace Aspo.Cli.Commands;

/// <summary><c>aspo export --model HF_DIR --out DIR</c>: a learner checkpoint as an ONNX Runtime GenAI-style folder.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Hugging Face model folder (config.json + model.safetensors)." };
        var output = new Option<string?>("--out") { Description = "Output folder: model.onnx, model.onnx.data, genai_config.json, tokenizer files." };
        var config = new Option<string?>("--config") { Description = "Instead of --model/--out: the export stage of a run (pipeline file), policy I−1 → iter-I/onnx." };
        var iteration = new Option<int>("--iteration") { Description = "With --config: the iteration to export for.", DefaultValueFactory = _ => 0 };
        var runOutput = new Option<string?>("--output") { Description = "With --config: the run directory (overrides run.output)." };
        var set = new Option<string[]>("--set") { Description = "With --config: dotted overrides (repeatable)." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Folder with tokenizer.json / tokenizer_config.json (default: the model folder)." };
        var context = new Option<int?>("--context-length") { Description = "Rotary cache length and maximum prompt + generation length (default: max_position_embeddings)." };
        var int4 = new Option<bool>("--int4") { Description = "Projection weights as 4-bit MatMulNBits (block 32, symmetric; lm_head stays fp32) for faster rollout." };
        var force = OutputFolder.ForceOption();
        var head = new Option<bool>("--sampling-head") { Description = "Append the in-graph sampler: a decode step can return the sampled token, its log-prob and entropy instead of logits (rollout.sampler graph)." };
        var command = new Command("export", "Export a checkpoint to ONNX (GroupQueryAttention graph, external data, genai_config.json).") { model, output, tokenizer, context, int4, head, force, config, iteration, runOutput, set };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            if (parse.GetValue(config) is { } pipeline)
            {
                if (parse.GetValue(model) is not null || parse.GetValue(output) is not null)
                    throw new ArgumentException("give either --config (a run's export stage) or --model and --out, not both");
                var i = parse.GetValue(iteration);
                var run = StageCommands.Create(pipeline, parse.GetValue(runOutput), parse.GetValue(set));
                run.Export(i);
                Console.WriteLine($"exported policy {i - 1} to {run.RunDirectory.OnnxFolder(i)}");
                return 0;
            }
            if (parse.GetValue(model) is null || parse.GetValue(output) is null)
                throw new ArgumentException("export needs --model and --out (or --config for a run's export stage)");
            var folder = parse.GetValue(model)!;
            var outFolder = OutputFolder.Check("--out", parse.GetValue(output)!, parse.GetValue(force));
            var (modelConfig, parameters) = Checkpoint.Load(folder);
            var tokenizerFolder = parse.GetValue(tokenizer) ?? folder;
            OutputFolder.Write(outFolder, temp => DecoderExporter.Export(modelConfig, parameters, temp, tokenizerFolder,
                new ExportOptions { ContextLength = parse.GetValue(context), Int4 = parse.GetValue(int4), SamplingHead = parse.GetValue(head) }));
            Console.WriteLine($"exported {modelConfig.Family} ({new ParameterLayout(modelConfig).TotalCount:N0} parameters) to {Path.GetFullPath(parse.GetValue(output)!)}");
            return 0;
        }));
        return command;
    }
}
