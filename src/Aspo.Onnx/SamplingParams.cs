using Aspo.Data.Tokenization;

namespace Aspo.Onnx;

/// <summary>Sampling settings. Temperature 0 = greedy. top_k 0 = off; top_p 1 = off.</summary>
public sealed record SamplingParams
{
    public float Temperature { get; init; } = 1f;
    public float TopP { get; init; } = 1f;
    public int TopK { get; init; }
    public int MaxNewTokens { get; init; } = 256;
    /// <summary>Extra stop token ids besides the model's EOS ids.</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    /// <summary>Stop when the generated text contains one of these (needs a tokenizer).</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    public bool RecordEntropy { get; init; }

    public void Validate()
    {
        if (!(Temperature >= 0) || float.IsInfinity(Temperature)) throw new ArgumentException($"temperature must be ≥ 0, got {Temperature}");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"top_p must be in (0, 1], got {TopP}");
        if (TopK < 0) throw new ArgumentException($"top_k must be ≥ 0 (0 = off), got {TopK}");
        if (MaxNewTokens < 1) throw new ArgumentException($"max new tokens must be ≥ 1, got {MaxNewTokens}");
    }
}
