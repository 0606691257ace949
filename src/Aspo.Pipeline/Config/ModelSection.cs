using Aspo.Algorithms;

namespace Aspo.Pipeline.Config;

/// <summary>model: the starting checkpoint (an HF folder with config.json, weights and tokenizer files).</summary>
public sealed record ModelSection
{
    public string Path { get; init; } = "";
    /// <summary>Chat template name; null = recognised from tokenizer_config.json.</summary>
    public string? ChatTemplate { get; init; }
}
