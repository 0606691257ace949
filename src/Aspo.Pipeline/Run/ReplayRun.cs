using System.Text.Json.Nodes;
using Aspo.Model;
using Aspo.Native.Files;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>Replay: the learn stages of a new run over another run's shards.</summary>
public static class ReplayRun
{
    /// <summary>
    /// Learns again from the shards of another run (<paramref name="sourceRun"/>), with this config's algorithm and
    /// optimizer, starting from the source's starting policy: an ablation on identical data (ASPO vs GRPO vs no-IS).
    /// Iteration i learns from the source's iter-i shards; the run resumes like any other.
    /// </summary>
    public static RunState Execute(PipelineConfig c, TextWriter log, RunDirectory runDirectory, string sourceRun)
    {
        var source = new RunDirectory(sourceRun);
        var start = source.PolicyFolder(0);
        if (!Directory.Exists(start))
            throw new ConfigException($"{source.Root}: not a run directory (no iter-0000/policy)");
        if (runDirectory.Root == source.Root)
            throw new ConfigException($"{source.Root}: a replay writes a new run; give it another run.output");
        var available = Enumerable.Range(1, c.Run.Iterations).TakeWhile(i => Directory.Exists(source.ShardsFolder(i))).Count();
        if (available == 0)
            throw new ConfigException($"{source.Root}: has no shards (iter-0001/shards)");
        using var run = RunContext.ForReplay(c, log, ModelConfig.Load(Path.Combine(start, Checkpoint.ConfigFile)));
        using var held = runDirectory.Lock("aspo replay");
        // like a run: an existing directory resumes only as a replay of the same source with the same configuration
        var recordedSource = File.Exists(runDirectory.ReplayPath) ? JsonNode.Parse(File.ReadAllText(runDirectory.ReplayPath))?["source"]?.GetValue<string>() : null;
        if (runDirectory.ReadState().CompareTo(RunState.Start) > 0 || File.Exists(runDirectory.MetricsPath))
        {
            if (recordedSource is null)
                throw new ConfigException($"{runDirectory.Root} holds a run, not a replay; give the replay its own --output");
            if (recordedSource != source.Root)
                throw new ConfigException($"{runDirectory.Root} is a replay of {recordedSource}, not of {source.Root}; give this replay its own --output");
            var differences = ResolvedConfig.Differences(File.ReadAllText(runDirectory.ResolvedConfigPath), c.ToYaml(), ResolvedConfig.MayChangeOnResume);
            if (differences.Count > 0)
                throw new ConfigException($"{runDirectory.Root} was replayed with another configuration ({runDirectory.ResolvedConfigPath}): " +
                    ResolvedConfig.Describe(differences) + "; resume it with that configuration or choose another --output");
        }
        AtomicFile.WriteAllText(runDirectory.ResolvedConfigPath, c.ToYaml());
        AtomicFile.WriteAllText(runDirectory.ReplayPath, new JsonObject { ["source"] = source.Root, ["iterations"] = available }.ToJsonString());
        if (!Directory.Exists(runDirectory.PolicyFolder(0)))
        {
            Directory.CreateDirectory(runDirectory.IterationFolder(0));
            AtomicFile.ReplaceFolder(runDirectory.PolicyFolder(0), folder =>
            {
                foreach (var f in Directory.GetFiles(start).Where(f => Path.GetFileName(f) != Learners.OptimizerFile))
                    File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
            });
        }
        run.Log.Line($"replay of {source.Root}: {available} iterations, loss {c.Algorithm.Loss}, rollout correction {c.Algorithm.RolloutCorrection.Level.ToString().ToLowerInvariant()}, into {runDirectory.Root}");
        var state = runDirectory.ReadState();
        for (var i = Math.Max(1, state.Iteration + (state.Stage == Stage.Learn ? 1 : 0)); i <= available; i++)
        {
            run.Metrics.Drop(i, MetricsLog.Step, MetricsLog.Iteration, MetricsLog.Shard);
            LearnStep.Run(run, i, source.ShardsFolder(i), replay: true);
            state = new RunState(i, Stage.Learn);
            runDirectory.WriteState(state);
        }
        return state;
    }
}
