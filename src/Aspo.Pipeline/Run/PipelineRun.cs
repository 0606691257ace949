using System.Diagnostics;
using System.Text.Json.Nodes;
using Aspo.Model;
using Aspo.Native.Files;
using Aspo.Pipeline.Config;
using Aspo.Rewards;

namespace Aspo.Pipeline;

/// <summary>
/// The RL loop over a run directory (<see cref="RunDirectory"/>): the starting policy evaluated, then per iteration
/// export → rollout → learn (→ eval every k iterations and after the last), each stage recorded in state.json once
/// done, so a killed run resumes at the first stage not recorded. Also the stages alone, for the stage commands, and
/// replay (learning again from another run's shards). Every entry point reads and checks its inputs first, then takes
/// the run directory's lock — exclusive, or shared for a rollout slice — and holds it until it returns.
/// </summary>
public sealed class PipelineRun
{
    private readonly PipelineConfig _config;
    private readonly TextWriter _log;
    private readonly Action<RewardRegistry>? _registerRewards;

    /// <param name="registerRewards">Adds graders for more data sources (for programs that embed the pipeline).</param>
    public PipelineRun(PipelineConfig config, TextWriter log, Action<RewardRegistry>? registerRewards = null)
    {
        _config = config;
        _log = log;
        _registerRewards = registerRewards;
        RunDirectory = new RunDirectory(config.RunDirectory);
    }

    public RunDirectory RunDirectory { get; }

    /// <summary>Called by <see cref="Execute"/> before each stage of the loop (for benchmarks and progress displays).</summary>
    public Action<RunState>? StageStarting { get; init; }

    /// <summary>Called by <see cref="Execute"/> after each stage of the loop is recorded, with its wall time.</summary>
    public Action<RunState, TimeSpan>? StageCompleted { get; init; }

    /// <summary>Runs (or resumes) the loop to the configured number of iterations.</summary>
    public RunState Execute()
    {
        var c = _config;
        using var run = RunContext.Load(c, _log, _registerRewards);
        using var held = Open(run, "aspo run");
        RunDirectory.RemoveLeftovers();
        var state = RunDirectory.ReadState();
        run.Log.Line(state.Stage == Stage.Init
            ? $"run {c.Run.Name}: {RunDirectory.Root}, {c.Run.Iterations} iterations of {c.Rollout.PromptsPerIteration} prompts × {c.Rollout.SamplesPerPrompt} samples, loss {c.Algorithm.Loss}"
            : $"run {c.Run.Name}: resuming {RunDirectory.Root} after iteration {state.Iteration}, stage {RunState.Name(state.Stage)}");

        // the starting policy is evaluated first: the baseline every later evaluation is compared with
        if (state.Stage == Stage.Init && run.Suites.Count > 0)
        {
            run.Metrics.Drop(0, MetricsLog.Eval);
            EvalStep.Run(run, 0);
            state = new RunState(0, Stage.Eval);
            RunDirectory.WriteState(state);
        }
        var budget = Stopwatch.StartNew();
        while (state.Next() is var next && next.Iteration <= c.Run.Iterations)
        {
            if (c.Run.MaxMinutes > 0 && next.Stage == Stage.Export && budget.Elapsed.TotalMinutes >= c.Run.MaxMinutes)
            {
                // the wall-clock budget is spent: no new iteration; the last completed one is evaluated if it was not
                run.Log.Line(FormattableString.Invariant($"run.max_minutes {c.Run.MaxMinutes} spent after iteration {state.Iteration} ({budget.Elapsed.TotalMinutes:F1} min)"));
                if (run.Suites.Count > 0 && !run.Metrics.Read().Any(r => r.Kind == MetricsLog.Eval && r.Iteration == state.Iteration))
                    EvalStep.Run(run, state.Iteration);
                break;
            }
            StageStarting?.Invoke(next);
            var watch = Stopwatch.StartNew();
            run.Metrics.Drop(next.Iteration, next.Stage switch
            {
                Stage.Rollout => [MetricsLog.Rollout],
                Stage.Learn => [MetricsLog.Step, MetricsLog.Iteration, MetricsLog.Shard],
                Stage.Eval => [MetricsLog.Eval],
                _ => [],
            });
            switch (next.Stage)
            {
                case Stage.Export:
                    ExportStep.Run(run, next.Iteration);
                    break;
                case Stage.Rollout:
                    RolloutStep.Run(run, next.Iteration);
                    break;
                case Stage.Learn:
                    LearnStep.Run(run, next.Iteration);
                    break;
                default: // eval every k iterations and after the last
                    if (run.Suites.Count > 0 && (c.Eval.Every > 0 && next.Iteration % c.Eval.Every == 0 || next.Iteration == c.Run.Iterations))
                        EvalStep.Run(run, next.Iteration);
                    break;
            }
            run.Log.Line(FormattableString.Invariant($"iteration {next.Iteration} {RunState.Name(next.Stage)}: done in {watch.Elapsed.TotalSeconds:F1} s"));
            state = next;
            RunDirectory.WriteState(state);
            StageCompleted?.Invoke(state, watch.Elapsed);
        }
        return state;
    }

    /// <summary>The export stage of iteration i alone (<c>aspo export --config</c>).</summary>
    public void Export(int iteration) => RunStage(new RunState(iteration, Stage.Export), "aspo export", run => ExportStep.Run(run, iteration));

    /// <summary>The learn stage of iteration i alone (<c>aspo learn</c>): every slice of iter-i/shards → policy i.</summary>
    public void Learn(int iteration) => RunStage(new RunState(iteration, Stage.Learn), "aspo learn", run =>
    {
        run.Metrics.Drop(iteration, MetricsLog.Step, MetricsLog.Iteration, MetricsLog.Shard);
        LearnStep.Run(run, iteration);
    });

    /// <summary>
    /// The rollout stage of iteration i alone (<c>aspo rollout</c>), or its slice k of N: slices of one iteration run in
    /// parallel (each holds the run directory's lock shared and its own part's lock exclusively).
    /// </summary>
    public void Rollout(int iteration, int shard = 0, int shards = 1)
    {
        if (shards == 1)
        {
            RunStage(new RunState(iteration, Stage.Rollout), "aspo rollout", run =>
            {
                run.Metrics.Drop(iteration, MetricsLog.Rollout);
                RolloutStep.Run(run, iteration);
            });
            return;
        }
        using var run = RunContext.Load(_config, _log, _registerRewards);
        using var held = Open(run, $"aspo rollout --shard {shard}/{shards}", shared: true);
        Directory.CreateDirectory(RunDirectory.ShardsFolder(iteration));
        using var slice = DirectoryLock.Acquire(RunDirectory.ShardsFolder(iteration), $"aspo rollout --shard {shard}/{shards}", lockFileName: $".part-{shard:D5}.lock");
        RolloutStep.Run(run, iteration, shard, shards);
    }

    private void RunStage(RunState done, string purpose, Action<RunContext> stage)
    {
        using var run = RunContext.Load(_config, _log, _registerRewards);
        using var held = Open(run, purpose);
        stage(run);
        RunDirectory.RecordStage(done);
    }

    /// <summary>
    /// Creates or reopens the run directory once the inputs are read and checked (a bad config writes nothing) and takes
    /// its lock. A run that has completed a stage resumes only with the configuration it was started with: another one
    /// is refused naming the keys that differ (more run.iterations, another learner and other machine paths are allowed;
    /// the training data is compared by its sha256). A run that has not completed a stage yet takes the new
    /// configuration, and its starting policy is (re)written — so a corrected rerun after a failed start proceeds.
    /// </summary>
    private DirectoryLock Open(RunContext run, string purpose, bool shared = false)
    {
        var c = _config;
        var held = RunDirectory.Lock(purpose, shared);
        try
        {
            var yaml = c.ToYaml();
            var inputs = RunInputs.Of(c);
            var started = RunDirectory.ReadState().CompareTo(RunState.Start) > 0;
            if (started || shared)
            {
                var differences = File.Exists(RunDirectory.ResolvedConfigPath)
                    ? ResolvedConfig.Differences(File.ReadAllText(RunDirectory.ResolvedConfigPath), yaml, ResolvedConfig.MayChangeOnResume)
                    : [];
                if (RunInputs.Read(RunDirectory.InputsPath) is { } recorded && recorded.TrainSha256 != inputs.TrainSha256)
                    differences = [.. differences, ("data.train (sha256)", recorded.TrainSha256, inputs.TrainSha256)];
                if (differences.Count > 0)
                    throw new ConfigException($"{RunDirectory.Root} was started with another configuration ({RunDirectory.ResolvedConfigPath}): " +
                        ResolvedConfig.Describe(differences) + "; resume it with that configuration or choose another run.output");
            }
            if (shared)
                return held;
            if (!started)
                InitializePolicy(); // checks the weights before anything of this configuration is recorded
            AtomicFile.WriteAllText(RunDirectory.ResolvedConfigPath, yaml);
            inputs.Write(RunDirectory.InputsPath);
            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>The starting policy: model.path copied into iter-0000/policy with an empty prompt cursor.</summary>
    private void InitializePolicy()
    {
        var source = _config.Resolve(_config.Model.Path);
        var (config, parameters) = Checkpoint.Load(source);
        Directory.CreateDirectory(RunDirectory.IterationFolder(0));
        AtomicFile.ReplaceFolder(RunDirectory.PolicyFolder(0), folder =>
        {
            Checkpoint.Save(folder, config, parameters);
            LearnStep.CopyTokenizer(source, folder);
            AtomicFile.WriteAllText(Path.Combine(folder, "trainer_state.json"), new JsonObject { ["epoch"] = 0, ["position"] = 0 }.ToJsonString());
        });
        RunDirectory.WriteState(RunState.Start);
    }

    /// <summary>
    /// Learns again from the shards of another run with this config's algorithm and optimizer (<see cref="ReplayRun"/>).
    /// </summary>
    public RunState Replay(string sourceRun) => ReplayRun.Execute(_config, _log, RunDirectory, sourceRun);

    /// <summary>
    /// "held-out avg@n: start% -> end% (+delta points)" over all prompts of the first suite, from the first evaluation
    /// (the starting policy) to the last; null without two evaluations.
    /// </summary>
    public string? HeldOutChange()
    {
        if (!File.Exists(RunDirectory.MetricsPath))
            return null;
        var rows = MetricsLog.Read(RunDirectory.Root);
        var evals = RunReport.Series(rows, RunReport.Charts.Single(c => c.Kind == MetricsLog.Eval));
        if (evals.Count < 2)
            return null;
        var key = rows.First(r => r.Kind == MetricsLog.Eval).Data.Select(kv => kv.Key).First(k => k.StartsWith(RunReport.HeldOutPrefix, StringComparison.Ordinal));
        var n = key[RunReport.HeldOutPrefix.Length..];
        var (first, last) = (evals[0].Y, evals[^1].Y);
        var delta = 100 * (last - first);
        return FormattableString.Invariant($"held-out avg@{n}: {100 * first:F1}% -> {100 * last:F1}% ({(delta >= 0 ? "+" : "")}{delta:F1} points)");
    }
}
