using System.CommandLine;
using Aspo.Pipeline;

namespace Aspo.Cli.Commands;

/// <summary>
/// <c>aspo run pipeline.yaml [--output DIR] [--set key=value …]</c>: the loop export → rollout → learn (→ eval every
/// k iterations) over a run directory; an existing run directory is resumed after its last completed stage.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = StageCommands.ConfigArgument("The pipeline file (pipeline.yaml).");
        var output = new Option<string?>("--output") { Description = "Run directory (overrides run.output; default runs/<run.name> next to the config)." };
        var set = new Option<string[]>("--set") { Description = "Override a setting by its dotted key, e.g. --set algorithm.loss=grpo --set rollout.n=8 (repeatable)." };
        var command = new Command("run", "Run or resume the RL loop of a pipeline file: export, rollout, learn, eval.") { config, output, set };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var pipeline = StageCommands.LoadConfig(parse.GetValue(config)!, parse.GetValue(output), parse.GetValue(set));
            var run = new PipelineRun(pipeline, Console.Out);
            var state = run.Execute();
            Console.WriteLine($"run {pipeline.Run.Name} complete: iteration {state.Iteration}, last stage {RunState.Name(state.Stage)}; {pipeline.RunDirectory}");
            // the last line: the headline suite's avg@n from the starting policy to the last evaluation
            if (run.HeldOutChange() is { } change)
                Console.WriteLine(change);
            return 0;
        }));
        return command;
    }
}
