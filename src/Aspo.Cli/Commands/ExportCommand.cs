using System.CommandLine;
using Aspo.Model;
using Aspo.Onnx;

namespace Aspo.Cli.Commands;

/// <summary><c>aspo export --model HF_DIR --out DIR</c>: a learner checkpoint as an ONNX Runtime GenAI-style folder.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face model folder (config.json + model.safetensors).", Required = true };
        var output = new Option<string>("--out") { Description = "Output folder: model.onnx, model.onnx.data, genai_config.json, tokenizer files.", Required = true };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Folder with tokenizer.json / tokenizer_config.json (default: the model folder)." };
        var context = new Option<int?>("--context-length") { Description = "Rotary cache length and maximum prompt + generation length (default: max_position_embeddings)." };
        var int4 = new Option<bool>("--int4") { Description = "Projection weights as 4-bit MatMulNBits (block 32, symmetric; lm_head stays fp32) for faster rollout." };
        var command = new Command("export", "Export a checkpoint to ONNX (GroupQueryAttention graph, external data, genai_config.json).") { model, output, tokenizer, context, int4 };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var folder = parse.GetValue(model)!;
            var (config, parameters) = Checkpoint.Load(folder);
            var tokenizerFolder = parse.GetValue(tokenizer) ?? folder;
            DecoderExporter.Export(config, parameters, parse.GetValue(output)!, tokenizerFolder,
                new ExportOptions { ContextLength = parse.GetValue(context), Int4 = parse.GetValue(int4) });
            Console.WriteLine($"exported {config.Family} ({new ParameterLayout(config).TotalCount:N0} parameters) to {Path.GetFullPath(parse.GetValue(output)!)}");
            return 0;
        }));
        return command;
    }
}
