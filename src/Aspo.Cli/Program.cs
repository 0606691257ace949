using System.CommandLine;
using Aspo.Cli.Commands;

namespace Aspo.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        var parse = BuildRoot().Parse(args);
        if (parse.Errors.Count == 0)
            return parse.Invoke();
        // a mistyped option or value is one line per mistake and a pointer to --help, not the whole help text
        foreach (var error in parse.Errors)
            Console.Error.WriteLine($"error: {Readable(error.Message)}");
        var path = new List<string>();
        for (var c = parse.CommandResult; c is not null; c = c.Parent as System.CommandLine.Parsing.CommandResult)
            path.Insert(0, c.Command.Name);
        path[0] = "aspo";
        Console.Error.WriteLine($"(see: {string.Join(' ', path)} --help)");
        return 1;
    }

    /// <summary>System.CommandLine's "as expected type 'System.Nullable`1[System.UInt64]'" in words.</summary>
    private static string Readable(string message) => System.Text.RegularExpressions.Regex.Replace(message,
        @"as expected type 'System\.(?:Nullable`1\[System\.)?(\w+)\]?'", m => m.Groups[1].Value switch
        {
            "Int32" or "Int64" => "as an integer",
            "UInt32" or "UInt64" => "as a non-negative integer",
            "Single" or "Double" => "as a number",
            "Boolean" => "as true or false",
            var other => $"as {other}",
        });

    /// <summary>The command tree; <c>--help</c> works at every level.</summary>
    internal static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "ASPO pipeline: reinforcement-learning post-training of language models with verifiable rewards " +
            "(export to ONNX, rollout with ONNX Runtime, learn with GRPO advantages and the ASPO loss).");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(CheckCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(LogprobsCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(ShardsCommand.Create());
        root.Subcommands.Add(ScoreCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(StageCommands.Rollout());
        root.Subcommands.Add(StageCommands.Learn());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(ModelCommand.Create());
        root.Subcommands.Add(SftCommand.Create());
        return root;
    }
}
