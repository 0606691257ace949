using Parquet.Schema;

namespace Aspo.Data.Shards;

/// <summary>
/// Rollout shard schema, version 2: one Parquet row per sampled response (zstd), key-value metadata
/// <c>aspo.shard_schema_version = "2"</c>. Locked by an approval test; changing it means a new version. The column list
/// is the one definition: the writer derives the Parquet schema and each column's values from it, the reader checks
/// every file's DuckDB types against it and reads the columns by these names. Version 2 added parent_sample and
/// branch_token (Monte-Carlo continuations); version-1 files are still read, those two columns as −1.
/// </summary>
public static class ShardSchema
{
    public const int Version = 2;

    /// <summary>The versions the reader accepts.</summary>
    public static IReadOnlyList<int> ReadableVersions { get; } = [1, 2];

    /// <summary>Columns version 1 files do not have (read as −1 from them).</summary>
    public static IReadOnlySet<string> AddedInVersion2 { get; } = new HashSet<string>(StringComparer.Ordinal) { "parent_sample", "branch_token" };
    public const string VersionKey = "aspo.shard_schema_version";

    /// <summary>The columns in file order: name, the type DuckDB reads it as, and how a row gives its value.</summary>
    public static IReadOnlyList<ShardColumn> Columns { get; } =
    [
        ShardColumn.Text("run_id", r => r.RunId),
        ShardColumn.Value("iteration", "INTEGER", r => r.Iteration),
        ShardColumn.Value("policy_version", "INTEGER", r => r.PolicyVersion),
        ShardColumn.Text("prompt_uid", r => r.PromptUid),
        ShardColumn.Value("sample_index", "INTEGER", r => r.SampleIndex),
        ShardColumn.Text("data_source", r => r.DataSource),
        ShardColumn.List("prompt_token_ids", "INTEGER[]", r => r.PromptTokenIds),
        ShardColumn.List("response_token_ids", "INTEGER[]", r => r.ResponseTokenIds),
        ShardColumn.List("old_logprobs", "FLOAT[]", r => r.OldLogprobs),
        ShardColumn.List("entropies", "FLOAT[]", r => r.Entropies),
        ShardColumn.Text("response_text", r => r.ResponseText),
        ShardColumn.Text("ground_truth", r => r.GroundTruth),
        ShardColumn.Value("reward", "DOUBLE", r => r.Reward),
        ShardColumn.Map("reward_components", r => r.RewardComponents),
        ShardColumn.Text("finish_reason", r => r.FinishReason),
        ShardColumn.Value("temperature", "FLOAT", r => r.Temperature),
        ShardColumn.Value("top_p", "FLOAT", r => r.TopP),
        ShardColumn.Value("top_k", "INTEGER", r => r.TopK),
        ShardColumn.Value("seed", "UBIGINT", r => r.Seed),
        ShardColumn.Value("parent_sample", "INTEGER", r => r.ParentSample),
        ShardColumn.Value("branch_token", "INTEGER", r => r.BranchToken),
    ];

    /// <summary>The Parquet schema of <see cref="Columns"/>.</summary>
    public static ParquetSchema Parquet { get; } = new([.. Columns.Select(c => c.Field)]);

    /// <summary>"part-00007.parquet" for index 7.</summary>
    public static string PartFileName(int index) => $"part-{index:D5}.parquet";
}
