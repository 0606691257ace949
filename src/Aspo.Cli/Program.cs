using System.CommandLine;
using Aspo.Cli.Commands;

namespace Aspo.Cli;

public static class Program
{
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

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
