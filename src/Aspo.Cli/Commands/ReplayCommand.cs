using System.CommandLine;
using Aspo.Pipeline;

namespace Aspo.Cli.Commands;

/// <summary><c>aspo replay SOURCE_RUN [pipeline.yaml] --output DIR [--set …]</c>: learn again from another run's shards.</summary>
internal static class ReplayCommand
{
    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "The run directory whose shards are replayed." };
        var config = StageCommands.ConfigArgument("The pipeline file with the algorithm to replay with.");
        var output = new Option<string?>("--output") { Description = "The new run directory (overrides run.output)." };
        var set = new Option<string[]>("--set") { Description = "Override a setting by its dotted key, e.g. --set algorithm.loss=grpo (repeatable)." };
        var command = new Command("replay", "Learn again from the shards of an existing run with another algorithm config, into a new run (ablations on identical data).")
        {
            source, config, output, set,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var pipeline = StageCommands.LoadConfig(parse.GetValue(config)!, parse.GetValue(output), parse.GetValue(set));
            var state = new PipelineRun(pipeline, Console.Out).Replay(parse.GetValue(source)!);
            Console.WriteLine($"replay complete: {state.Iteration} iterations learned into {pipeline.RunDirectory}");
            return 0;
        }));
        return command;
    }
}
