using System.Text.Json.Nodes;
using DuckDB.NET.Data;

namespace Aspo.Data;

/// <summary>
/// Which columns hold what. Default: the verl layout — <c>data_source</c>, <c>prompt</c> (list of {role, content}),
/// <c>ability</c>, <c>reward_model.ground_truth</c>, <c>extra_info</c>. For a simple layout set <see cref="PromptColumn"/>
/// to a string column (a single user message, e.g. "question") and <see cref="AnswerColumn"/> (e.g. "answer").
/// </summary>
public sealed record DatasetMapping
{
    public string PromptColumn { get; init; } = "prompt";
    /// <summary>Column holding the answer; null = verl's <c>reward_model.ground_truth</c>.</summary>
    public string? AnswerColumn { get; init; }
    public string DataSourceColumn { get; init; } = "data_source";
    /// <summary>data_source for rows of a file without that column.</summary>
    public string DefaultDataSource { get; init; } = "default";

    public static DatasetMapping Verl { get; } = new();
}
