using System.CommandLine;
using System.Globalization;
using Aspo.Pipeline;
using Aspo.Pipeline.Config;

namespace Aspo.Cli.Commands;

/// <summary>
/// The loop's stages as commands on a run directory, each usable alone — e.g. from a cluster scheduler:
/// <c>aspo export --config pipeline.yaml --iteration I</c>, then <c>aspo rollout pipeline.yaml --iteration I --shard k/N</c>
/// on N machines, then <c>aspo learn pipeline.yaml --iteration I</c>.
/// </summary>
internal static class StageCommands
{
    private static (Argument<string> Config, Option<int> Iteration, Option<string?> Output, Option<string[]> Set) Common()
    {
        var config = ConfigArgument("The pipeline file (pipeline.yaml).");
        var iteration = new Option<int>("--iteration") { Description = "The iteration (1-based) whose stage to run.", Required = true };
        var output = new Option<string?>("--output") { Description = "Run directory (overrides run.output)." };
        var set = new Option<string[]>("--set") { Description = "Override a setting by its dotted key (repeatable); must match the run's configuration." };
        return (config, iteration, output, set);
    }

    /// <summary>The pipeline-file argument (default pipeline.yaml); a word starting with '-' there is an unknown option, not a file.</summary>
    internal static Argument<string> ConfigArgument(string description)
    {
        var config = new Argument<string>("config") { Description = description, DefaultValueFactory = _ => "pipeline.yaml" };
        config.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && result.Tokens[0].Value.StartsWith('-'))
                result.AddError($"unknown option '{result.Tokens[0].Value}'");
        });
        return config;
    }

    /// <summary>The pipeline file with the --set overrides and --output (as run.output) applied.</summary>
    internal static PipelineConfig LoadConfig(string config, string? output, string[]? set)
    {
        var overrides = (set ?? []).ToList();
        if (output is not null)
            overrides.Add($"run.output={Path.GetFullPath(output)}");
        return PipelineConfig.Load(config, overrides);
    }

    internal static PipelineRun Create(string config, string? output, string[]? set) => new(LoadConfig(config, output, set), Console.Out);

    public static Command Rollout()
    {
        var (config, iteration, output, set) = Common();
        var shard = new Option<string>("--shard") { Description = "This process's slice k/N of the iteration's prompts (0 ≤ k < N); learn reads every slice.", DefaultValueFactory = _ => "0/1" };
        var command = new Command("rollout", "Rollout stage of one iteration on a run directory: the exported policy samples the prompts (or one slice) into shards.")
        {
            config, iteration, shard, output, set,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            var text = parse.GetValue(shard)!;
            var parts = text.Split('/');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var k)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || k >= n)
                throw new ArgumentException($"--shard {text}: expected k/N with 0 ≤ k < N, e.g. --shard 0/4");
            Create(parse.GetValue(config)!, parse.GetValue(output), parse.GetValue(set)).Rollout(parse.GetValue(iteration), k, n);
            return 0;
        }));
        return command;
    }

    public static Command Learn()
    {
        var (config, iteration, output, set) = Common();
        var command = new Command("learn", "Learn stage of one iteration on a run directory: every shard of the iteration → the next checkpoint.")
        {
            config, iteration, output, set,
        };
        command.SetAction(parse => CommandRunner.Run(() =>
        {
            Create(parse.GetValue(config)!, parse.GetValue(output), parse.GetValue(set)).Learn(parse.GetValue(iteration));
            return 0;
        }));
        return command;
    }
}
