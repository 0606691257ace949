using System.Globalization;
using Aspo.Data.Shards;

namespace Aspo.Data.Tests;

public sealed class ShardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-shards-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static List<RolloutRow> RandomRows(int count, int seed, int maxResponse = 60)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            var length = rng.Next(0, maxResponse);
            return new RolloutRow
            {
                RunId = "run-ü", Iteration = 3, PolicyVersion = 12 + i % 2, PromptUid = $"p{i / 4}", SampleIndex = i % 4,
                DataSource = i % 3 == 0 ? "lighteval/MATH" : "gsm8k",
                PromptTokenIds = Enumerable.Range(0, rng.Next(1, 40)).Select(_ => rng.Next(151643)).ToArray(),
                ResponseTokenIds = Enumerable.Range(0, length).Select(_ => rng.Next(151643)).ToArray(),
                OldLogprobs = Enumerable.Range(0, length).Select(_ => (float)(-rng.NextDouble() * 8)).ToArray(),
                Entropies = i % 5 == 0 ? null : Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 3)).ToArray(),
                ResponseText = i % 7 == 0 ? "" : $"The answer is \\boxed{{{i}}} — 答案 {i} 😀",
                GroundTruth = (i % 13).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Reward = i % 2 == 0 ? 1.0 : -0.25 * rng.NextDouble(),
                RewardComponents = i % 4 == 0 ? new Dictionary<string, double>() : new Dictionary<string, double> { ["correct"] = i % 2, ["overlong"] = -0.1 * (i % 3) },
                FinishReason = i % 6 == 0 ? "length" : "stop", Temperature = 1f, TopP = 1f, TopK = 0, Seed = (ulong)i * 0x9E3779B97F4A7C15UL,
            };
        }).ToList();
    }

    [Fact]
    public void Shards_round_trip_exactly_in_batches()
    {
        var rows = RandomRows(5000, seed: 1);
        using (var writer = new ShardWriter(_dir))
        {
            writer.Append(rows[..3000]);
            writer.WritePart(0);
            writer.Append(rows[3000..]);
            Assert.Equal(2000, writer.StagedRows);
            writer.WritePart(1);
        }
        Assert.Equal(["part-00000.parquet", "part-00001.parquet"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order());

        using var reader = new ShardReader(_dir);
        var batches = reader.ReadBatches(1000).ToList();
        Assert.Equal(5, batches.Count);
        Assert.All(batches, b => Assert.Equal(1000, b.Count));
        var back = batches.SelectMany(b => b).ToList();
        Assert.Equal(rows.Count, back.Count);
        for (var i = 0; i < rows.Count; i++)
            Assert.True(rows[i].SameAs(back[i]), $"row {i} differs after the round trip");
    }

    [Fact]
    public void Schema_is_locked_by_the_approved_file_and_parts_are_zstd()
    {
        using (var writer = new ShardWriter(_dir))
        {
            writer.Append(RandomRows(10, seed: 2));
            writer.WritePart(7);
        }
        var file = Path.Combine(_dir, "part-00007.parquet");
        using var conn = DuckDbSql.Open();
        var described = DuckDbSql.ReadStrings(conn, $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({DuckDbSql.Literal(file)}))")
            .Select(r => $"{r[0]} {r[1]}");
        var approved = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Approved", "shard_schema_v2.txt"));
        Assert.Equal(approved, described);
        Assert.Equal(approved, ShardSchema.Columns.Select(c => $"{c.Name} {c.DuckDbType}"));
        var codecs = DuckDbSql.ReadStrings(conn, $"SELECT DISTINCT CAST(compression AS VARCHAR) FROM parquet_metadata({DuckDbSql.Literal(file)})");
        Assert.Equal(["ZSTD"], codecs.Select(r => r[0]));
    }

    /// <summary>DuckDB's own reading of a Parquet.Net shard, in SQL, agrees with the rows written: list lengths and sums,
    /// null entropy lists, empty lists and maps, map entries, the unsigned seed.</summary>
    [Fact]
    public void Duckdb_reads_what_parquet_net_writes()
    {
        var rows = RandomRows(300, seed: 6);
        var file = WriteRows(rows);
        using var conn = DuckDbSql.Open();
        var back = DuckDbSql.ReadStrings(conn, "SELECT len(response_token_ids), list_sum(prompt_token_ids), entropies IS NULL, cardinality(reward_components), " +
            $"reward_components['overlong'], CAST(seed AS VARCHAR), len(old_logprobs) FROM read_parquet({DuckDbSql.Literal(file)})");
        Assert.Equal(rows.Count, back.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            Assert.Equal(row.ResponseTokenIds.Length.ToString(CultureInfo.InvariantCulture), back[i][0]);
            Assert.Equal(row.PromptTokenIds.Sum(t => (long)t).ToString(CultureInfo.InvariantCulture), back[i][1]);
            Assert.Equal(row.Entropies is null ? "True" : "False", back[i][2]);
            Assert.Equal(row.RewardComponents.Count.ToString(CultureInfo.InvariantCulture), back[i][3]);
            Assert.Equal(row.RewardComponents.TryGetValue("overlong", out var o) ? o.ToString("R", CultureInfo.InvariantCulture) : null, back[i][4]);
            Assert.Equal(row.Seed.ToString(CultureInfo.InvariantCulture), back[i][5]);
            Assert.Equal(row.ResponseTokenIds.Length.ToString(CultureInfo.InvariantCulture), back[i][6]);
        }
    }

    /// <summary>Shards written by DuckDB's COPY (as earlier versions of this project wrote them) read back exactly.</summary>
    [Fact]
    public void Shards_written_by_duckdb_read_back_exactly()
    {
        var rows = RandomRows(200, seed: 8);
        var ours = WriteRows(rows);
        var copied = Path.Combine(_dir, "copied.parquet");
        using (var conn = DuckDbSql.Open())
            DuckDbSql.Execute(conn, $"COPY (SELECT * FROM read_parquet({DuckDbSql.Literal(ours)})) TO {DuckDbSql.Literal(copied)} " +
                "(FORMAT parquet, COMPRESSION zstd, KV_METADATA {\"aspo.shard_schema_version\": '1'})");
        using var reader = new ShardReader(copied);
        var back = reader.ReadBatches().SelectMany(b => b).ToList();
        Assert.Equal(rows.Count, back.Count);
        for (var i = 0; i < rows.Count; i++)
            Assert.True(rows[i].SameAs(back[i]), $"row {i} differs");
    }

    [Fact]
    public void An_empty_part_is_a_valid_shard_with_no_rows()
    {
        using (var writer = new ShardWriter(_dir))
            writer.WritePart(0);
        using var reader = new ShardReader(_dir);
        Assert.Empty(reader.ReadBatches());
    }

    [Fact]
    public void Inconsistent_rows_are_rejected_before_anything_is_staged()
    {
        using var writer = new ShardWriter(_dir);
        var rows = RandomRows(3, seed: 3);
        rows[2] = rows[2] with { OldLogprobs = [-1f] , ResponseTokenIds = [1, 2] };
        var e = Assert.Throws<ArgumentException>(() => writer.Append(rows));
        Assert.Contains("old_logprobs has 1 values for 2 response tokens", e.Message);
        Assert.Equal(0, writer.StagedRows);
        Assert.Contains("finish_reason must be \"stop\" or \"length\"", Assert.Throws<ArgumentException>(() => writer.Append([RandomRows(1, 4)[0] with { FinishReason = "eos" }])).Message);
    }

    private string WriteOne(int rows = 50) => WriteRows(RandomRows(rows, seed: 5));

    private string WriteRows(IReadOnlyList<RolloutRow> rows)
    {
        using var writer = new ShardWriter(_dir);
        writer.Append(rows);
        return writer.WritePart(0);
    }

    [Fact]
    public void Truncated_shard_is_an_error_naming_the_file()
    {
        var file = WriteOne();
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(bytes.Length * 2 / 3)]);
        var e = Assert.Throws<DataFormatException>(() => new ShardReader(file));
        Assert.Contains(file, e.Message);
    }

    [Fact]
    public void Missing_column_version_mismatch_and_foreign_files_are_named()
    {
        using var conn = DuckDbSql.Open();
        var good = WriteOne();
        var missing = Path.Combine(_dir, "missing.parquet");
        DuckDbSql.Execute(conn, $"COPY (SELECT * EXCLUDE (old_logprobs) FROM read_parquet({DuckDbSql.Literal(good)})) TO {DuckDbSql.Literal(missing)} (FORMAT parquet, KV_METADATA {{\"aspo.shard_schema_version\": '1'}})");
        Assert.Contains($"{missing}: column old_logprobs (FLOAT[]) is missing", Assert.Throws<DataFormatException>(() => new ShardReader(missing)).Message);

        var future = Path.Combine(_dir, "future.parquet");
        DuckDbSql.Execute(conn, $"COPY (SELECT * FROM read_parquet({DuckDbSql.Literal(good)})) TO {DuckDbSql.Literal(future)} (FORMAT parquet, KV_METADATA {{\"aspo.shard_schema_version\": '3'}})");
        Assert.Contains($"{future}: shard schema version 3, this build reads versions 1 and 2", Assert.Throws<DataFormatException>(() => new ShardReader(future)).Message);
        // a version-2 file without a version-2 column
        var noParent = Path.Combine(_dir, "no-parent.parquet");
        DuckDbSql.Execute(conn, $"COPY (SELECT * EXCLUDE (parent_sample) FROM read_parquet({DuckDbSql.Literal(good)})) TO {DuckDbSql.Literal(noParent)} (FORMAT parquet, KV_METADATA {{\"aspo.shard_schema_version\": '2'}})");
        Assert.Contains($"{noParent}: column parent_sample (INTEGER) is missing", Assert.Throws<DataFormatException>(() => new ShardReader(noParent)).Message);

        var foreign = Path.Combine(_dir, "foreign.parquet");
        DuckDbSql.Execute(conn, $"COPY (SELECT 1 AS x) TO {DuckDbSql.Literal(foreign)} (FORMAT parquet)");
        Assert.Contains($"{foreign}: not a rollout shard", Assert.Throws<DataFormatException>(() => new ShardReader(foreign)).Message);
    }

    /// <summary>Version-1 shards (the layout before the continuation columns, kept as shard_schema_v1.txt) still read:
    /// every row a sample of its prompt (parent_sample = branch_token = −1); continuation rows round-trip in version 2.</summary>
    [Fact]
    public void Version_1_shards_read_as_samples_and_continuations_round_trip()
    {
        var rows = RandomRows(6, seed: 4);
        rows[5] = rows[5] with { ParentSample = 2, BranchToken = 3 };
        using (var writer = new ShardWriter(_dir))
        {
            writer.Append(rows);
            writer.WritePart(0);
        }
        var good = Path.Combine(_dir, "part-00000.parquet");
        using (var reader = new ShardReader(good))
        {
            var back = reader.ReadBatches().SelectMany(b => b).ToList();
            Assert.True(back.Zip(rows).All(p => p.First.SameAs(p.Second)));
            Assert.False(back[5].IsSample);
        }
        using var conn = DuckDbSql.Open();
        var v1 = Path.Combine(_dir, "v1", "part-00000.parquet");
        Directory.CreateDirectory(Path.GetDirectoryName(v1)!);
        DuckDbSql.Execute(conn, $"COPY (SELECT * EXCLUDE (parent_sample, branch_token) FROM read_parquet({DuckDbSql.Literal(good)})) TO {DuckDbSql.Literal(v1)} (FORMAT parquet, KV_METADATA {{\"aspo.shard_schema_version\": '1'}})");
        var described = DuckDbSql.ReadStrings(conn, $"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({DuckDbSql.Literal(v1)}))").Select(r => $"{r[0]} {r[1]}");
        Assert.Equal(File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Approved", "shard_schema_v1.txt")), described);
        using var oldReader = new ShardReader(v1);
        var old = oldReader.ReadBatches().SelectMany(b => b).ToList();
        Assert.All(old, r => Assert.True(r.IsSample && r.BranchToken == -1));
        Assert.True(old.Take(5).Zip(rows).All(p => p.First.SameAs(p.Second)));
        Assert.Throws<ArgumentException>(() => (rows[0] with { ParentSample = 1 }).Validate());
    }

    [Fact]
    public void Files_folders_and_globs_resolve_or_fail_clearly()
    {
        var one = WriteOne();
        Assert.Single(ShardReader.Resolve(_dir));
        Assert.Single(ShardReader.Resolve(Path.Combine(_dir, "part-*.parquet")));
        Assert.Contains("no shard matches this pattern", Assert.Throws<DataFormatException>(() => ShardReader.Resolve(Path.Combine(_dir, "x-*.parquet"))).Message);
        Assert.Contains("no such shard file, folder or pattern", Assert.Throws<DataFormatException>(() => ShardReader.Resolve(Path.Combine(_dir, "nope.parquet"))).Message);
        var empty = Directory.CreateDirectory(Path.Combine(_dir, "empty")).FullName;
        Assert.Contains("no *.parquet shards in this folder", Assert.Throws<DataFormatException>(() => ShardReader.Resolve(empty)).Message);
        Assert.DoesNotContain(Directory.GetFiles(_dir), f => Path.GetFileName(f).StartsWith('.')); // no temporary left behind

        // wildcards in folder segments, as a run directory is laid out: runs/NAME/iter-*/shards/*.parquet
        foreach (var iteration in new[] { "iter-0002", "iter-0001", "iter-0010" })
        {
            var shards = Directory.CreateDirectory(Path.Combine(_dir, "run", iteration, "shards")).FullName;
            File.Copy(one, Path.Combine(shards, "part-00000.parquet"));
        }
        Directory.CreateDirectory(Path.Combine(_dir, "run", "iter-0003")); // no shards folder: contributes nothing
        Assert.Equal(["iter-0001", "iter-0002", "iter-0010"],
            ShardReader.Resolve(Path.Combine(_dir, "run", "iter-*", "shards", "*.parquet")).Select(f => Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(f)))));
        Assert.Contains("no shard matches this pattern",
            Assert.Throws<DataFormatException>(() => ShardReader.Resolve(Path.Combine(_dir, "run", "step-*", "shards", "*.parquet"))).Message);
    }
}
