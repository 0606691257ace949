using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Native.Files;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>
/// A run directory: every path of its layout, its state and its lock.
/// <code>
/// runs/&lt;name&gt;/
///   .aspo.lock               held by the process working here (released by the kernel when it ends)
///   pipeline.resolved.yaml   the config in effect (every setting, after overrides)
///   inputs.json              what the inputs were when the run started (the training data's sha256)
///   replay.json              a replay's source run
///   state.json               last completed (iteration, stage), rewritten atomically
///   metrics.jsonl            {"kind", "iteration", "step", "data": {verl names…}} per line; tensorboard/ the same scalars
///   iter-0000/policy/        the starting checkpoint (config.json, model.safetensors, tokenizer files)
///   iter-000i/onnx/          policy i−1 exported (model.onnx + .data, genai_config.json, tokenizer)
///   iter-000i/shards/        part-0000k.parquet per rollout slice (+ rollout.json: the prompt cursor after iteration i)
///   iter-000i/policy/        policy i: weights, optimizer.safetensors, trainer_state.json (prompt cursor)
/// </code>
/// Every file and folder is written under a temporary name and renamed into place (<see cref="AtomicFile"/>), so a run
/// killed at any moment resumes at the first stage not recorded, and nothing under a final name is ever partial.
/// </summary>
public sealed class RunDirectory(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string ResolvedConfigPath => Path.Combine(Root, "pipeline.resolved.yaml");
    public string InputsPath => Path.Combine(Root, "inputs.json");
    public string ReplayPath => Path.Combine(Root, "replay.json");
    public string StatePath => Path.Combine(Root, "state.json");
    public string MetricsPath => Path.Combine(Root, "metrics.jsonl");
    public string TensorBoardFolder => Path.Combine(Root, "tensorboard");

    public string IterationFolder(int i) => Path.Combine(Root, $"iter-{i:D4}");
    public string PolicyFolder(int i) => Path.Combine(IterationFolder(i), "policy");
    public string OnnxFolder(int i) => Path.Combine(IterationFolder(i), "onnx");
    public string ShardsFolder(int i) => Path.Combine(IterationFolder(i), "shards");

    /// <summary>The prompt cursor after iteration i's rollout (the same for every slice).</summary>
    public string RolloutCursorPath(int i) => Path.Combine(ShardsFolder(i), "rollout.json");

    /// <summary>Policy i's prompt cursor, where the rollout of iteration i + 1 continues.</summary>
    public string TrainerStatePath(int i) => Path.Combine(PolicyFolder(i), "trainer_state.json");

    public bool Exists => Directory.Exists(Root);

    /// <summary>Takes the directory's lock: exclusive for everything that changes shared files, shared for rollout
    /// slices (each writes its own part). Another process's conflicting lock is one error naming it.</summary>
    public DirectoryLock Lock(string purpose, bool shared = false) => DirectoryLock.Acquire(Root, purpose, shared);

    public RunState ReadState()
    {
        if (!File.Exists(StatePath))
            return RunState.Start;
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(StatePath))!.AsObject();
            var iteration = o["iteration"]!.GetValue<int>();
            var name = o["stage"]!.GetValue<string>();
            if (iteration < 0 || !RunState.TryParse(name, out var stage))
                throw new FormatException($"iteration {iteration}, stage '{name}'");
            return new RunState(iteration, stage);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or NullReferenceException)
        {
            throw new ConfigException($"{StatePath}: not a run state ({e.Message}); expected {{\"iteration\": N, \"stage\": \"export|rollout|learn|eval\"}}");
        }
    }

    public void WriteState(RunState state) =>
        AtomicFile.WriteAllText(StatePath, new JsonObject { ["iteration"] = state.Iteration, ["stage"] = RunState.Name(state.Stage) }.ToJsonString());

    /// <summary>Records a stage finished outside the loop (the stage commands) when it is later than the recorded state.</summary>
    public void RecordStage(RunState done)
    {
        if (done.CompareTo(ReadState()) > 0)
            WriteState(done);
    }

    /// <summary>Deletes the temporaries of killed processes (only under the exclusive lock: no one else is writing).</summary>
    public void RemoveLeftovers() => AtomicFile.RemoveLeftovers(Root);
}
