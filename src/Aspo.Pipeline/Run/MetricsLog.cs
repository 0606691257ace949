using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Native.Files;
using Aspo.Pipeline.Config;

namespace Aspo.Pipeline;

/// <summary>
/// A run's metrics: one JSON object per line in metrics.jsonl — {"kind", "iteration", "step", ["suite",] "data": {verl
/// names}} — and the same scalars in TensorBoard event files (per-step rows under "step/…" on the optimizer-step
/// axis, everything else on the iteration axis). A stage that is redone first drops the rows an interrupted attempt
/// appended, so every row is there once.
/// </summary>
public sealed class MetricsLog(RunDirectory run) : IDisposable
{
    public const string Rollout = "rollout", Step = "step", Iteration = "iteration", Eval = "eval", Shard = "shard";

    private TensorBoardWriter? _tensorBoard;

    public void Append(string kind, int iteration, long step, IReadOnlyDictionary<string, double> data) =>
        Append(new JsonObject
        {
            ["kind"] = kind, ["iteration"] = iteration, ["step"] = step,
            ["data"] = new JsonObject(data.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        });

    public void Append(JsonObject row)
    {
        AppendRows(run.MetricsPath, [row]);
        var perStep = row["kind"]!.GetValue<string>() == Step;
        var axis = perStep ? row["step"]!.GetValue<long>() : row["iteration"]!.GetValue<int>();
        _tensorBoard ??= new TensorBoardWriter(run.TensorBoardFolder);
        _tensorBoard.WriteScalars(axis, row["data"]!.AsObject().Select(kv => ((perStep ? "step/" : "") + kv.Key, kv.Value!.GetValue<double>())));
    }

    /// <summary>Drops the rows of <paramref name="kinds"/> at <paramref name="iteration"/> (and a torn last line of a killed
    /// process) before a stage (re)runs; rewritten atomically.</summary>
    public void Drop(int iteration, params string[] kinds) => DropRows(run.MetricsPath, row =>
        row["iteration"]!.GetValue<int>() == iteration && kinds.Contains(row["kind"]!.GetValue<string>()));

    public IReadOnlyList<MetricRow> Read() => Read(run.Root);

    /// <summary>Appends rows as one write, so a crash leaves whole lines only.</summary>
    public static void AppendRows(string path, IEnumerable<JsonObject> rows)
    {
        var text = string.Concat(rows.Select(r => r.ToJsonString() + "\n"));
        using var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
        stream.Write(Encoding.UTF8.GetBytes(text));
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Rewrites <paramref name="path"/> without the rows <paramref name="drop"/> selects and without unreadable lines.</summary>
    public static void DropRows(string path, Func<JsonObject, bool> drop)
    {
        if (!File.Exists(path))
            return;
        var lines = File.ReadAllLines(path);
        var kept = lines.Where(line =>
        {
            try
            {
                return !drop(JsonNode.Parse(line)!.AsObject());
            }
            catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException)
            {
                return false; // a torn last line of a killed process
            }
        }).ToArray();
        if (kept.Length != lines.Length)
            AtomicFile.WriteAllText(path, string.Concat(kept.Select(l => l + "\n")));
    }

    /// <summary>A run's metric rows. Fails naming the file and line of a bad row.</summary>
    public static IReadOnlyList<MetricRow> Read(string runDirectory)
    {
        var file = Path.Combine(Path.GetFullPath(runDirectory), "metrics.jsonl");
        if (!File.Exists(file))
            throw new ConfigException($"{file}: not found; expected a run directory written by `aspo run` or `aspo replay`");
        var rows = new List<MetricRow>();
        var line = 0;
        foreach (var text in File.ReadLines(file))
        {
            line++;
            try
            {
                var o = JsonNode.Parse(text)!.AsObject();
                rows.Add(new MetricRow(o["kind"]!.GetValue<string>(), o["iteration"]!.GetValue<int>(), o["suite"]?.GetValue<string>(), o["data"]!.AsObject()));
            }
            catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException)
            {
                throw new ConfigException($"{file}:{line}: not a metrics row ({e.Message}); expected {{\"kind\", \"iteration\", \"step\", \"data\": {{…}}}}");
            }
        }
        return rows;
    }

    public void Dispose()
    {
        _tensorBoard?.Dispose();
        _tensorBoard = null;
    }
}
