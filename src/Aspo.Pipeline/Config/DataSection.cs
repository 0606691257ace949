using Aspo.Algorithms;

namespace Aspo.Pipeline.Config;

/// <summary>data: the training prompts.</summary>
public sealed record DataSection
{
    public string Train { get; init; } = "";
    public string PromptColumn { get; init; } = "prompt";
    public string? AnswerColumn { get; init; }
    public string DataSource { get; init; } = "default";
    public bool RequireThinkClose { get; init; }
}
