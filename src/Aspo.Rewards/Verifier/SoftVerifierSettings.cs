using Aspo.Data.Tokenization;
using Aspo.Onnx;

namespace Aspo.Rewards;

/// <summary>How the model-based verifier is prompted and read.</summary>
public sealed record SoftVerifierSettings
{
    /// <summary>The user message; {question}, {reference} and {response} are replaced.</summary>
    public string PromptTemplate { get; init; } = DefaultTemplate;
    /// <summary>The judgment token whose probability is the reward; it must be a single token of the verifier's vocabulary.</summary>
    public string YesToken { get; init; } = "YES";
    /// <summary>The negative judgment token (logged as p_no; used by <see cref="Normalize"/>); null = none.</summary>
    public string? NoToken { get; init; } = "NO";
    /// <summary>Reward = P(yes) / (P(yes) + P(no)) instead of P(yes) over the full vocabulary.</summary>
    public bool Normalize { get; init; }
    /// <summary>Only the last this-many characters of the response are shown (the final answer is at the end); 0 = all.</summary>
    public int MaxResponseChars { get; init; } = 4000;

    public const string DefaultTemplate =
        "Judge whether the final answer of a response to a problem matches the reference answer. Ignore the reasoning; " +
        "equivalent forms of the same answer match.\n\nProblem:\n{question}\n\nReference answer:\n{reference}\n\nResponse:\n{response}\n\n" +
        "Does the final answer of the response match the reference answer? Reply with YES or NO only.";
}
