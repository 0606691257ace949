using System.CommandLine;
using Aspo.Data.Tokenization;
using Aspo.Model;

namespace Aspo.Cli.Commands;

/// <summary><c>aspo model init --out DIR …</c>: a freshly initialised decoder as an HF folder, with a byte-level tokenizer by default.</summary>
internal static class ModelCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "The HF folder to write (config.json, model.safetensors, tokenizer files).", Required = true };
        var family = new Option<string>("--family") { Description = "qwen2, llama or qwen3.", DefaultValueFactory = _ => "qwen2" };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size.", DefaultValueFactory = _ => 64 };
        var layers = new Option<int>("--layers") { Description = "Decoder layers.", DefaultValueFactory = _ => 2 };
        var heads = new Option<int>("--heads") { Description = "Attention heads (head_dim = hidden / heads must be a multiple of 16 for the ONNX export).", DefaultValueFactory = _ => 4 };
        var kvHeads = new Option<int>("--kv-heads") { Description = "Key/value heads (GQA).", DefaultValueFactory = _ => 2 };
        var intermediate = new Option<int>("--intermediate") { Description = "MLP width (0 = 8/3 × hidden, rounded up to a multiple of 16).", DefaultValueFactory = _ => 0 };
        var context = new Option<int>("--context") { Description = "max_position_embeddings.", DefaultValueFactory = _ => 512 };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Folder with tokenizer.json (+ tokenizer_config.json) to use; default: a byte-level tokenizer (256 bytes + ChatML tokens)." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var force = OutputFolder.ForceOption();
        var init = new Command("init", "Write a freshly initialised model (HF layout, N(0, 0.02) weights) with its tokenizer.")
        {
            output, family, hidden, layers, heads, kvHeads, intermediate, context, tokenizer, seed, force,
        };
        init.SetAction(parse => CommandRunner.Run(() =>
        {
            var folder = OutputFolder.Check("--out", parse.GetValue(output)!, parse.GetValue(force));
            var h = parse.GetValue(hidden);
            var nh = parse.GetValue(heads);
            if (h < 1 || nh < 1 || h % nh != 0 || h / nh % 16 != 0)
                throw new ArgumentException($"--hidden {h} must be a positive multiple of --heads {nh} with head_dim = hidden / heads a multiple of 16 (the ONNX export's rotary needs it)");
            if (parse.GetValue(kvHeads) is var kv && (kv < 1 || nh % kv != 0))
                throw new ArgumentException($"--kv-heads {kv} must divide --heads {nh}");
            var fam = parse.GetValue(family) switch
            {
                "qwen2" => ModelFamily.Qwen2,
                "llama" => ModelFamily.Llama,
                "qwen3" => ModelFamily.Qwen3,
                var other => throw new ArgumentException($"--family {other}: expected qwen2, llama or qwen3"),
            };
            ModelConfig? config = null;
            var vocab = 0;
            OutputFolder.Write(folder, temp =>
            {
                int eos;
                if (parse.GetValue(tokenizer) is { } from)
                {
                    foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
                    {
                        if (File.Exists(Path.Combine(from, f)))
                            File.Copy(Path.Combine(from, f), Path.Combine(temp, f));
                    }
                    var bpe = BpeTokenizer.Load(Path.Combine(temp, "tokenizer.json"));
                    vocab = bpe.VocabSize;
                    eos = bpe.Encode("<|im_end|>") is [var id] ? id : vocab - 1;
                }
                else
                {
                    ByteLevelTokenizerFiles.Write(temp);
                    vocab = ByteLevelTokenizerFiles.VocabSize;
                    eos = ByteLevelTokenizerFiles.SpecialId("<|im_end|>");
                }
                var inter = parse.GetValue(intermediate) is > 0 and var i ? i : (8 * h / 3 + 15) / 16 * 16;
                config = new ModelConfig
                {
                    Family = fam, HiddenSize = h, IntermediateSize = inter, NumLayers = parse.GetValue(layers), NumHeads = nh, NumKvHeads = parse.GetValue(kvHeads),
                    HeadDim = h / nh, VocabSize = vocab, TieWordEmbeddings = true, MaxPositionEmbeddings = parse.GetValue(context), EosTokenIds = [eos],
                    RopeTheta = 10000,
                };
                Checkpoint.Save(temp, config, ModelInit.Random(config, parse.GetValue(seed)));
            });
            Console.WriteLine($"wrote {config!.Family} ({new ParameterLayout(config).TotalCount:N0} parameters, vocabulary {vocab}) to {folder}");
            return 0;
        }));
        return new Command("model", "Model tools.") { init };
    }
}
