using Aspo.Native.Files;
using System.Globalization;
using System.Text.Json;
using Aspo.Native.DuckDb;

namespace Aspo.Data.Shards;

/// <summary>
/// Writes rollout rows to <c>part-NNNNN.parquet</c> files in a folder: rows are appended in bulk through DuckDB's
/// data-chunk appender into an in-memory staging table, and <see cref="WritePart"/> copies them to zstd Parquet under a
/// temporary name, then renames it — a reader never sees half a shard.
/// </summary>
public sealed class ShardWriter : IDisposable
{
    private readonly DuckDbDatabase _db;
    private readonly DuckDbConnection _conn;
    private long _staged;

    public ShardWriter(string folder)
    {
        Folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(Folder);
        _db = DuckDbDatabase.Open();
        _conn = _db.Connect();
        // reward_components is staged as JSON text and becomes MAP(VARCHAR, DOUBLE) on the way out
        _conn.Execute("""
            CREATE TABLE staging (run_id VARCHAR, iteration INTEGER, policy_version INTEGER, prompt_uid VARCHAR, sample_index INTEGER,
              data_source VARCHAR, prompt_token_ids INTEGER[], response_token_ids INTEGER[], old_logprobs FLOAT[], entropies FLOAT[],
              response_text VARCHAR, ground_truth VARCHAR, reward DOUBLE, reward_components_json VARCHAR, finish_reason VARCHAR,
              temperature FLOAT, top_p FLOAT, top_k INTEGER, seed UBIGINT)
            """);
    }

    public string Folder { get; }

    /// <summary>Rows appended since the last part was written.</summary>
    public long StagedRows => _staged;

    /// <summary>Appends rows (validated first: nothing is staged if any row is inconsistent).</summary>
    public void Append(IReadOnlyList<RolloutRow> rows)
    {
        foreach (var row in rows)
            row.Validate();
        using var appender = _conn.CreateAppender("staging");
        using var chunk = appender.CreateChunk();
        for (var start = 0; start < rows.Count; start += DuckDbDatabase.VectorSize)
        {
            chunk.Reset();
            var n = Math.Min(DuckDbDatabase.VectorSize, rows.Count - start);
            var s = new ShardVectors(chunk, n);
            var v = s.V;
            for (var r = 0; r < n; r++)
            {
                var row = rows[start + r];
                v[0].SetString(r, row.RunId);
                s.Iteration[r] = row.Iteration;
                s.PolicyVersion[r] = row.PolicyVersion;
                v[3].SetString(r, row.PromptUid);
                s.SampleIndex[r] = row.SampleIndex;
                v[5].SetString(r, row.DataSource);
                v[6].AppendList<int>(r, row.PromptTokenIds);
                v[7].AppendList<int>(r, row.ResponseTokenIds);
                v[8].AppendList<float>(r, row.OldLogprobs);
                if (row.Entropies is null) v[9].SetNull(r); else v[9].AppendList<float>(r, row.Entropies);
                v[10].SetString(r, row.ResponseText);
                v[11].SetString(r, row.GroundTruth);
                s.Reward[r] = row.Reward;
                v[13].SetString(r, JsonSerializer.Serialize(row.RewardComponents));
                v[14].SetString(r, row.FinishReason);
                s.Temperature[r] = row.Temperature;
                s.TopP[r] = row.TopP;
                s.TopK[r] = row.TopK;
                s.Seed[r] = row.Seed;
            }
            chunk.Size = n;
            appender.Append(chunk);
        }
        appender.Close();
        _staged += rows.Count;
    }

    /// <summary>Writes the staged rows as <c>part-{index:D5}.parquet</c> (zstd, schema version in the metadata) and clears the stage.</summary>
    /// <returns>the path written</returns>
    public string WritePart(int index)
    {
        var path = Path.Combine(Folder, ShardSchema.PartFileName(index));
        var columns = string.Join(", ", ShardSchema.Columns.Select(c => c.Name == "reward_components"
            ? "CAST(CAST(reward_components_json AS JSON) AS MAP(VARCHAR, DOUBLE)) AS reward_components"
            : c.Name));
        AtomicFile.Write(path, temp => _conn.Execute($"COPY (SELECT {columns} FROM staging) TO {DuckDbConnection.Literal(temp)} " +
            $"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{\"{ShardSchema.VersionKey}\": '{ShardSchema.Version.ToString(CultureInfo.InvariantCulture)}'}})"));
        _conn.Execute("DELETE FROM staging");
        _staged = 0;
        return path;
    }

    public void Dispose()
    {
        _conn.Dispose();
        _db.Dispose();
    }
}
