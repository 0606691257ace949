namespace Aspo.Data.Shards;

/// <summary>
/// Rollout shard schema, version 1: one Parquet row per sampled response (zstd), key-value metadata
/// <c>aspo.shard_schema_version = "1"</c>. Locked by an approval test; changing it means a new version.
/// </summary>
public static class ShardSchema
{
    public const int Version = 1;
    public const string VersionKey = "aspo.shard_schema_version";

    /// <summary>(column, DuckDB type) in file order.</summary>
    public static IReadOnlyList<(string Name, string Type)> Columns { get; } =
    [
        ("run_id", "VARCHAR"),
        ("iteration", "INTEGER"),
        ("policy_version", "INTEGER"),
        ("prompt_uid", "VARCHAR"),
        ("sample_index", "INTEGER"),
        ("data_source", "VARCHAR"),
        ("prompt_token_ids", "INTEGER[]"),
        ("response_token_ids", "INTEGER[]"),
        ("old_logprobs", "FLOAT[]"),
        ("entropies", "FLOAT[]"),
        ("response_text", "VARCHAR"),
        ("ground_truth", "VARCHAR"),
        ("reward", "DOUBLE"),
        ("reward_components", "MAP(VARCHAR, DOUBLE)"),
        ("finish_reason", "VARCHAR"),
        ("temperature", "FLOAT"),
        ("top_p", "FLOAT"),
        ("top_k", "INTEGER"),
        ("seed", "UBIGINT"),
    ];

    /// <summary>"part-00007.parquet" for index 7.</summary>
    public static string PartFileName(int index) => $"part-{index:D5}.parquet";
}
