using DuckDB.NET.Data;

namespace Aspo.Data.Shards;

/// <summary>
/// Reads rollout shards — one file, a folder of <c>*.parquet</c>, or a glob — file by file with DuckDB streaming
/// queries (DuckDB.NET in streaming mode), into batches of rows, so memory holds one batch (plus DuckDB's row groups in
/// flight), not the run.
/// Each file's schema version and columns are checked first; a corrupt or truncated file is an error naming it.
/// </summary>
public sealed class ShardReader : IDisposable
{
    private readonly DuckDBConnection _conn = DuckDbSql.Open();
    private readonly Dictionary<string, int> _versions = new(StringComparer.Ordinal);

    public ShardReader(string pathOrGlob)
    {
        Files = Resolve(pathOrGlob);
        foreach (var file in Files)
            _versions[file] = CheckSchema(file);
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

    /// <summary>The file's schema version, after checking its columns against it.</summary>
    private int CheckSchema(string file)
    {
        try
        {
            var kv = DuckDbSql.ReadStrings(_conn, $"SELECT CAST(key AS VARCHAR), CAST(value AS VARCHAR) FROM parquet_kv_metadata({DuckDbSql.Literal(file)})")
                .ToDictionary(r => r[0]!, r => r[1]);
            if (!kv.TryGetValue(ShardSchema.VersionKey, out var version))
                throw new DataFormatException($"{file}: not a rollout shard (no {ShardSchema.VersionKey} in the Parquet metadata)");
            if (!int.TryParse(version, System.Globalization.CultureInfo.InvariantCulture, out var number) || !ShardSchema.ReadableVersions.Contains(number))
                throw new DataFormatException($"{file}: shard schema version {version}, this build reads versions {string.Join(" and ", ShardSchema.ReadableVersions)}");
            var columns = DuckDbSql.ReadStrings(_conn, $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({DuckDbSql.Literal(file)}))")
                .ToDictionary(r => r[0]!, r => r[1]!);
            foreach (var column in ShardSchema.Columns.Where(c => number >= 2 || !ShardSchema.AddedInVersion2.Contains(c.Name)))
            {
                if (!columns.TryGetValue(column.Name, out var actual))
                    throw new DataFormatException($"{file}: column {column.Name} ({column.DuckDbType}) is missing");
                if (actual != column.DuckDbType)
                    throw new DataFormatException($"{file}: column {column.Name} has type {actual}, expected {column.DuckDbType}");
            }
            return number;
        }
        catch (DuckDBException e)
        {
            throw new DataFormatException($"{file}: cannot be read as a Parquet shard: {DuckDbSql.Message(e)}");
        }
    }

    /// <summary>All rows, in file order, in batches of at most <paramref name="batchRows"/>.</summary>
    public IEnumerable<IReadOnlyList<RolloutRow>> ReadBatches(int batchRows = 1024)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchRows, 1);
        var batch = new List<RolloutRow>(batchRows);
        foreach (var file in Files)
        {
            // version-1 files lack the continuation columns: they read as −1 (every row a sample of its prompt)
            var columns = string.Join(", ", ShardSchema.Columns.Select(c => _versions[file] < 2 && ShardSchema.AddedInVersion2.Contains(c.Name)
                ? $"CAST(-1 AS INTEGER) AS {DuckDbSql.Identifier(c.Name)}" : DuckDbSql.Identifier(c.Name)));
            using var command = _conn.CreateCommand();
            command.CommandText = $"SELECT {columns} FROM read_parquet({DuckDbSql.Literal(file)})";
            command.UseStreamingMode = true;
            using var reader = Run(command.ExecuteReader, file);
            while (Run(reader.Read, file))
            {
                batch.Add(Row(reader));
                if (batch.Count == batchRows)
                {
                    yield return batch;
                    batch = new List<RolloutRow>(batchRows);
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
        catch (DuckDBException e)
        {
            throw new DataFormatException($"{file}: {DuckDbSql.Message(e)}");
        }
    }

    /// <summary>The current row; ordinals follow <see cref="ShardSchema.Columns"/>.</summary>
    private static RolloutRow Row(DuckDBDataReader r) => new()
    {
        RunId = r.GetString(0), Iteration = r.GetInt32(1), PolicyVersion = r.GetInt32(2), PromptUid = r.GetString(3),
        SampleIndex = r.GetInt32(4), DataSource = r.GetString(5),
        PromptTokenIds = [.. r.GetFieldValue<List<int>>(6)], ResponseTokenIds = [.. r.GetFieldValue<List<int>>(7)],
        OldLogprobs = [.. r.GetFieldValue<List<float>>(8)], Entropies = r.IsDBNull(9) ? null : [.. r.GetFieldValue<List<float>>(9)],
        ResponseText = r.GetString(10), GroundTruth = r.GetString(11), Reward = r.GetDouble(12),
        RewardComponents = r.IsDBNull(13) ? new Dictionary<string, double>() : r.GetFieldValue<Dictionary<string, double>>(13),
        FinishReason = r.GetString(14), Temperature = r.GetFloat(15), TopP = r.GetFloat(16), TopK = r.GetInt32(17),
        Seed = r.GetFieldValue<ulong>(18), ParentSample = r.GetInt32(19), BranchToken = r.GetInt32(20),
    };

    public void Dispose() => _conn.Dispose();
}
