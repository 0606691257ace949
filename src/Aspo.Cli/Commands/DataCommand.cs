using System.CommandLine;
using System.Text.Json.Nodes;
using Aspo.Data;
using Aspo.Data.Synthetic;

namespace Aspo.Cli.Commands;

/// <summary>
/// <c>aspo data validate FILE</c>: answers "what must my dataset look like?" — row count, columns found, data_source
/// counts, the first prompt rendered with the chat template, and every problem with its row and column. Exit 0 only
/// when the file is usable.
/// </summary>
internal static class DataCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "Prompt dataset (.parquet or .jsonl), verl layout by default." };
        var promptColumn = new Option<string>("--prompt-column") { Description = "Column with the prompt: a list of {role, content} (verl) or a string.", DefaultValueFactory = _ => "prompt" };
        var answerColumn = new Option<string?>("--answer-column") { Description = "Column with the answer (default: verl's reward_model.ground_truth)." };
        var template = new Option<string>("--chat-template") { Description = $"Template used to show the first prompt: {string.Join(", ", ChatTemplate.Names)}.", DefaultValueFactory = _ => "chatml" };
        var validate = new Command("validate", "Check a prompt dataset and show how it will be read.") { file, promptColumn, answerColumn, template };
        validate.SetAction(parse => CommandRunner.Run(() => Validate(parse.GetValue(file)!,
            new DatasetMapping { PromptColumn = parse.GetValue(promptColumn)!, AnswerColumn = parse.GetValue(answerColumn) },
            ChatTemplate.ByName(parse.GetValue(template)!), Console.Out)));
        return new Command("data", "Prompt dataset tools.") { validate, CreateSynth() };
    }

    private static Command CreateSynth()
    {
        var level = new Option<string>("--level") { Description = $"Difficulty, or several separated by commas (--count each): {string.Join(", ", ArithmeticTasks.Levels.Select(l => $"{l.Name} ({l.Steps} step{(l.Steps == 1 ? "" : "s")}, {(l.MinDigits == l.MaxDigits ? $"{l.MinDigits}" : $"{l.MinDigits}–{l.MaxDigits}")} digits{(l.Multiply ? ", ×" : "")})"))}.", Required = true };
        var split = new Option<string>("--split") { Description = "train or heldout (disjoint by construction).", DefaultValueFactory = _ => "train" };
        var count = new Option<int>("--count") { Description = "Number of distinct problems.", DefaultValueFactory = _ => 100 };
        var seed = new Option<ulong>("--seed") { DefaultValueFactory = _ => 1UL };
        var output = new Option<string>("--out") { Description = "Output file (.parquet or .jsonl), verl layout.", Required = true };
        var answerOnly = new Option<double>("--answer-only")
        {
            Description = "Share of problems whose extra_info.solution is the bare answer instead of the worked steps (an SFT mix of terse and worked solutions; the choice is seeded per problem).",
            DefaultValueFactory = _ => 0.0,
        };
        var synth = new Command("synth", "Generate the synthetic arithmetic task family (verl layout, worked solution in extra_info.solution).")
        {
            level, split, count, seed, output, answerOnly,
        };
        synth.SetAction(parse => CommandRunner.Run(() => Synthesize(parse.GetValue(level)!, parse.GetValue(split)!, parse.GetValue(count),
            parse.GetValue(seed), parse.GetValue(output)!, Console.Out, parse.GetValue(answerOnly))));
        return synth;
    }

    internal static int Synthesize(string levelNames, string splitName, int count, ulong seed, string path, TextWriter output, double answerOnly = 0)
    {
        if (!(answerOnly >= 0 && answerOnly <= 1))
            throw new ArgumentException($"--answer-only must be a share between 0 and 1, got {answerOnly}");
        var levels = levelNames.Split(',', StringSplitOptions.TrimEntries).Select(ArithmeticTasks.Level).ToList();
        var split = splitName switch
        {
            "train" => ArithmeticSplit.Train,
            "heldout" => ArithmeticSplit.HeldOut,
            _ => throw new ArgumentException($"--split must be train or heldout, got '{splitName}'"),
        };
        if (count < 1)
            throw new ArgumentException($"--count must be at least 1, got {count}");
        var problems = levels.SelectMany(level => ArithmeticTasks.Generate(level, split, count, seed)).ToList();
        // the terse/worked choice has its own stream, so the problems themselves do not depend on --answer-only
        var styleState = seed ^ 0x5EEDF00DUL;
        var terse = problems.Select(_ => SplitMix64.NextDouble(ref styleState) < answerOnly).ToList();
        var rows = problems.Select((p, i) =>
        {
            var info = new JsonObject
            {
                ["split"] = splitName, ["index"] = i, ["level"] = p.Level.Name, ["seed"] = seed,
                ["solution"] = terse[i] ? p.AnswerOnlySolution : p.Solution,
            };
            if (answerOnly > 0) // without a mix the files stay as they were before the option existed
                info["style"] = terse[i] ? "answer-only" : "worked";
            return new PromptRow(p.Level.DataSource, [new ChatMessage("user", p.Question)], "math",
                p.Answer.ToString(System.Globalization.CultureInfo.InvariantCulture), info);
        }).ToList();
        PromptDatasetWriter.Write(path, rows);
        output.WriteLine($"wrote {rows.Count} {string.Join("+", levels.Select(l => l.Name))} {splitName} problems (data_source {string.Join(", ", levels.Select(l => l.DataSource))}, seed {seed}"
            + (answerOnly > 0 ? $", {terse.Count(t => t)} with answer-only solutions" : "") + $") to {Path.GetFullPath(path)}");
        return 0;
    }

    internal static int Validate(string file, DatasetMapping mapping, ChatTemplate template, TextWriter output)
    {
        var report = PromptDataset.Inspect(file, mapping);
        output.WriteLine($"file:        {report.File}");
        output.WriteLine($"columns:     {string.Join(", ", report.Columns.Select(c => $"{c.Name} {c.Type}"))}");
        output.WriteLine($"rows:        {report.Records.Count} usable" + (report.Problems.Any(p => p.Row >= 0) ? $", {report.Problems.Where(p => p.Row >= 0).Select(p => p.Row).Distinct().Count()} with problems" : ""));
        if (report.Records.Count > 0)
        {
            output.WriteLine("data_source: " + string.Join(", ", report.Records.GroupBy(r => r.DataSource).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} ({g.Count()})")));
            var first = report.Records[0];
            output.WriteLine($"first prompt (row {first.Row}, chat template {template.Name}), ground truth {System.Text.Json.JsonSerializer.Serialize(first.GroundTruth)}:");
            output.WriteLine(template.Render(first.Prompt, addGenerationPrompt: true));
        }
        if (report.Problems.Count == 0 && report.Records.Count > 0)
        {
            output.WriteLine("problems:    none");
            return 0;
        }
        output.WriteLine($"problems:    {Math.Max(report.Problems.Count, 1)}");
        foreach (var p in report.Problems)
            output.WriteLine($"  {p}");
        if (report.Records.Count == 0 && report.Problems.Count == 0)
            output.WriteLine("  the file has no rows");
        return 1;
    }
}
