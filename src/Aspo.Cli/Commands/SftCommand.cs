using System.CommandLine;
using System.Globalization;
using Aspo.Data;
using Aspo.Data.Tokenization;
using Aspo.Model;
using Aspo.Pipeline;

namespace Aspo.Cli.Commands;

/// <summary><c>aspo sft --model DIR --data FILE --out DIR</c>: supervised warm start on the worked solutions of a dataset.</summary>
internal static class SftCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Starting HF folder (config.json, model.safetensors, tokenizer files).", Required = true };
        var data = new Option<string>("--data") { Description = "Prompt dataset whose extra_info holds the target (verl layout; aspo data synth writes extra_info.solution).", Required = true };
        var output = new Option<string>("--out") { Description = "The HF folder to write.", Required = true };
        var field = new Option<string>("--target-field") { Description = "extra_info field with the target text.", DefaultValueFactory = _ => "solution" };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per optimizer step.", DefaultValueFactory = _ => 32 };
        var micro = new Option<int>("--micro-batch") { Description = "Sequences per forward/backward.", DefaultValueFactory = _ => 32 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (linear warm-up, cosine decay to 10 %).", DefaultValueFactory = _ => 1e-3 };
        var warmup = new Option<int>("--warmup-steps") { DefaultValueFactory = _ => 20 };
        var limit = new Option<int>("--limit") { Description = "Use only the first N rows (0 = all).", DefaultValueFactory = _ => 0 };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 1UL };
        var template = new Option<string?>("--chat-template") { Description = $"One of {string.Join(", ", ChatTemplate.Names)}; default: from tokenizer_config.json." };
        var learnerOptions = new LearnerCliOptions();
        var force = OutputFolder.ForceOption();
        var command = new Command("sft", "Supervised warm start: cross-entropy on the worked solutions of a dataset, through the learner, into a new HF folder.")
        {
            model, data, output, field, epochs, batch, micro, lr, warmup, limit, seed, template, force,
        };
        learnerOptions.AddTo(command);
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var settings = new SftSettings
            {
                Epochs = parse.GetValue(epochs), BatchSize = parse.GetValue(batch), MicroBatch = parse.GetValue(micro), LearningRate = parse.GetValue(lr),
                WarmupSteps = parse.GetValue(warmup), Seed = parse.GetValue(seed),
            };
            settings.Validate();
            var outFolder = OutputFolder.Check("--out", parse.GetValue(output)!, parse.GetValue(force));
            var folder = parse.GetValue(model)!;
            var (config, parameters) = Checkpoint.Load(folder);
            var tokenizer = BpeTokenizer.Load(Path.Combine(folder, "tokenizer.json"));
            var chat = parse.GetValue(template) is { } name ? ChatTemplate.ByName(name) : ChatTemplate.FromTokenizerConfig(folder);
            var records = PromptDataset.Load(parse.GetValue(data)!);
            if (parse.GetValue(limit) > 0)
                records = [.. records.Take(parse.GetValue(limit))];
            var examples = SftStage.Examples(records, tokenizer, chat, config.EosTokenIds[0], parse.GetValue(field)!);
            using var learner = Learners.Create(config, parameters, learnerOptions.Read(parse, new AdamWOptions { WeightDecay = settings.WeightDecay }));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var last = 0.0;
            try
            {
                SftStage.Run(learner, examples, settings, (k, n, m) =>
                {
                    last = m["sft/loss"];
                    if (k == 1 || k % 20 == 0 || k == n)
                        Console.WriteLine(FormattableString.Invariant($"sft step {k}/{n}: loss {m["sft/loss"]:F4}, lr {m["sft/lr"]:E2}, grad norm {m["sft/grad_norm"]:F3}, {clock.Elapsed.TotalSeconds:F0} s"));
                });
            }
            catch (TrainingDivergedException e)
            {
                throw new TrainingDivergedException(FormattableString.Invariant(
                    $"sft, {e.Message}; lower --lr ({settings.LearningRate}). Nothing was written to {outFolder}"));
            }
            OutputFolder.Write(outFolder, temp =>
            {
                learner.SaveCheckpoint(temp);
                foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
                {
                    if (File.Exists(Path.Combine(folder, f)))
                        File.Copy(Path.Combine(folder, f), Path.Combine(temp, f));
                }
            });
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sft: {examples.Count} examples, {settings.Epochs} epochs, final loss {last:F4}, {clock.Elapsed.TotalSeconds:F0} s → {outFolder}"));
            return 0;
        }));
        return command;
    }
}
