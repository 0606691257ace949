using System.Text.Json;
using Aspo.Native.DuckDb;

namespace Aspo.Data.Shards;

/// <summary>
/// Reads rollout shards — one file, a folder of <c>*.parquet</c>, or a glob — file by file with DuckDB streaming
/// queries, into batches of rows, so memory holds one batch (plus DuckDB's row groups in flight), not the run.
/// Each file's schema version and columns are checked first; a corrupt or truncated file is an error naming it.
/// </summary>
public sealed class ShardReader : IDisposable
{
    private readonly DuckDbDatabase _db = DuckDbDatabase.Open();
    private readonly DuckDbConnection _conn;

    public ShardReader(string pathOrGlob)
    {
        _conn = _db.Connect();
        Files = Resolve(pathOrGlob);
        foreach (var file in Files)
            CheckSchema(file);
    }

    public IReadOnlyList<string> Files { get; }

    /// <summary>The shard files named by a file, a folder (its *.parquet) or a glob (* and ? in any path segment,
    /// e.g. runs/NAME/iter-*/shards/*.parquet), in ordinal order.</summary>
    public static IReadOnlyList<string> Resolve(string pathOrGlob)
    {
        var full = Path.GetFullPath(pathOrGlob);
        if (File.Exists(full))
            return [full];
        if (Directory.Exists(full))
            return Directory.GetFiles(full, "*.parquet").Order(StringComparer.Ordinal).ToArray() is { Length: > 0 } inFolder
                ? inFolder : throw new DataFormatException($"{full}: no *.parquet shards in this folder");
        if (full.IndexOfAny(['*', '?']) < 0)
            throw new DataFormatException($"{full}: no such shard file, folder or pattern");
        // expand segment by segment: folders for every segment but the last, files for the last
        var segments = full.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        IEnumerable<string> matches = [Path.GetPathRoot(full)!];
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            var last = i == segments.Length - 1;
            var wild = segment.IndexOfAny(['*', '?']) >= 0;
            matches = matches.SelectMany(parent => !wild
                ? (last ? File.Exists(Path.Combine(parent, segment)) : Directory.Exists(Path.Combine(parent, segment))) ? [Path.Combine(parent, segment)] : Array.Empty<string>()
                : Directory.Exists(parent) ? (last ? Directory.GetFiles(parent, segment) : Directory.GetDirectories(parent, segment)) : []).ToList();
        }
        return matches.Order(StringComparer.Ordinal).ToArray() is { Length: > 0 } matched
            ? matched : throw new DataFormatException($"{full}: no shard matches this pattern");
    }

    private void CheckSchema(string file)
    {
        try
        {
            using var meta = _conn.Query($"SELECT CAST(key AS VARCHAR), CAST(value AS VARCHAR) FROM parquet_kv_metadata({DuckDbConnection.Literal(file)})");
            var kv = PromptDataset.ReadStringsFrom(meta, 2).ToDictionary(r => r[0]!, r => r[1]);
            if (!kv.TryGetValue(ShardSchema.VersionKey, out var version))
                throw new DataFormatException($"{file}: not a rollout shard (no {ShardSchema.VersionKey} in the Parquet metadata)");
            if (version != ShardSchema.Version.ToString(System.Globalization.CultureInfo.InvariantCulture))
                throw new DataFormatException($"{file}: shard schema version {version}, this build reads version {ShardSchema.Version}");
            using var describe = _conn.Query($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({DuckDbConnection.Literal(file)}))");
            var columns = PromptDataset.ReadStringsFrom(describe, 2).ToDictionary(r => r[0]!, r => r[1]!);
            foreach (var (name, type) in ShardSchema.Columns)
            {
                if (!columns.TryGetValue(name, out var actual))
                    throw new DataFormatException($"{file}: column {name} ({type}) is missing");
                if (actual != type)
                    throw new DataFormatException($"{file}: column {name} has type {actual}, expected {type}");
            }
        }
        catch (DuckDbException e)
        {
            throw new DataFormatException($"{file}: cannot be read as a Parquet shard: {e.NativeMessage}");
        }
    }

    /// <summary>All rows, in file order, in batches of at most <paramref name="batchRows"/>.</summary>
    public IEnumerable<IReadOnlyList<RolloutRow>> ReadBatches(int batchRows = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchRows, 1);
        var batch = new List<RolloutRow>(batchRows);
        foreach (var file in Files)
        {
            var columns = string.Join(", ", ShardSchema.Columns.Select(c => c.Name == "reward_components" ? "CAST(to_json(reward_components) AS VARCHAR)" : c.Name));
            using var result = Run(() => _conn.QueryStreaming($"SELECT {columns} FROM read_parquet({DuckDbConnection.Literal(file)})"), file);
            while (Run(result.FetchChunk, file) is { } chunk)
                using (chunk)
                {
                    foreach (var row in Rows(chunk))
                    {
                        batch.Add(row);
                        if (batch.Count == batchRows)
                        {
                            yield return batch;
                            batch = new List<RolloutRow>(batchRows);
                        }
                    }
                }
        }
        if (batch.Count > 0)
            yield return batch;
    }

    private static T Run<T>(Func<T> action, string file)
    {
        try
        {
            return action();
        }
        catch (DuckDbException e)
        {
            throw new DataFormatException($"{file}: {e.NativeMessage}");
        }
    }

    private static List<RolloutRow> Rows(DuckDbDataChunk chunk)
    {
        var n = chunk.Size;
        var s = new ShardVectors(chunk, n);
        var v = s.V;
        var rows = new List<RolloutRow>(n);
        for (var r = 0; r < n; r++)
            rows.Add(new RolloutRow
            {
                RunId = v[0].GetString(r), Iteration = s.Iteration[r], PolicyVersion = s.PolicyVersion[r], PromptUid = v[3].GetString(r),
                SampleIndex = s.SampleIndex[r], DataSource = v[5].GetString(r),
                PromptTokenIds = List<int>(v[6], r, n), ResponseTokenIds = List<int>(v[7], r, n), OldLogprobs = List<float>(v[8], r, n),
                Entropies = v[9].IsValid(r) ? List<float>(v[9], r, n) : null,
                ResponseText = v[10].GetString(r), GroundTruth = v[11].GetString(r), Reward = s.Reward[r],
                RewardComponents = JsonSerializer.Deserialize<Dictionary<string, double>>(v[13].GetString(r)) ?? [],
                FinishReason = v[14].GetString(r), Temperature = s.Temperature[r], TopP = s.TopP[r], TopK = s.TopK[r], Seed = s.Seed[r],
            });
        return rows;
    }

    private static T[] List<T>(DuckDbVector vector, int row, int rows) where T : unmanaged
    {
        var entry = vector.GetListEntries(rows)[row];
        return vector.ListChild.GetData<T>(vector.ListSize).Slice((int)entry.Offset, (int)entry.Length).ToArray();
    }

    public void Dispose()
    {
        _conn.Dispose();
        _db.Dispose();
    }
}
