namespace Aspo.Data.Shards;

/// <summary>
/// One sampled response, as stored in a rollout shard (schema v2, <see cref="ShardSchema"/>). Old log-probs are
/// log_softmax(logits/T) at the sampled token, one per response token. A Monte-Carlo continuation (SPO's value
/// estimates) is a row of its own: <see cref="ParentSample"/> names the sample it branched from and
/// <see cref="BranchToken"/> how many of that sample's response tokens precede it (its response is the continuation only).
/// </summary>
public sealed record RolloutRow
{
    public required string RunId { get; init; }
    public required int Iteration { get; init; }
    /// <summary>The policy version that produced the row: iteration − 1 (policy i−1 samples iteration i); the learner refuses stale rows.</summary>
    public required int PolicyVersion { get; init; }
    public required string PromptUid { get; init; }
    public required int SampleIndex { get; init; }
    public required string DataSource { get; init; }
    public required int[] PromptTokenIds { get; init; }
    public required int[] ResponseTokenIds { get; init; }
    public required float[] OldLogprobs { get; init; }
    /// <summary>Per-token entropies at sampling time, or null when not recorded.</summary>
    public float[]? Entropies { get; init; }
    public required string ResponseText { get; init; }
    public required string GroundTruth { get; init; }
    public required double Reward { get; init; }
    public IReadOnlyDictionary<string, double> RewardComponents { get; init; } = new Dictionary<string, double>();
    /// <summary>"stop" (EOS or stop string) or "length" (max tokens reached).</summary>
    public required string FinishReason { get; init; }
    public required float Temperature { get; init; }
    public required float TopP { get; init; }
    /// <summary>0 = off.</summary>
    public required int TopK { get; init; }
    public required ulong Seed { get; init; }
    /// <summary>−1 for a sample of the prompt; otherwise the sample_index of the response this continuation branched from.</summary>
    public int ParentSample { get; init; } = -1;
    /// <summary>−1 for a sample of the prompt; otherwise the number of the parent's response tokens before the branch.</summary>
    public int BranchToken { get; init; } = -1;

    /// <summary>A sample of the prompt (not a continuation of another sample).</summary>
    public bool IsSample => ParentSample < 0;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field when the row is inconsistent.</summary>
    public void Validate()
    {
        if (OldLogprobs.Length != ResponseTokenIds.Length)
            throw new ArgumentException($"row {PromptUid}/{SampleIndex}: old_logprobs has {OldLogprobs.Length} values for {ResponseTokenIds.Length} response tokens");
        if (Entropies is not null && Entropies.Length != ResponseTokenIds.Length)
            throw new ArgumentException($"row {PromptUid}/{SampleIndex}: entropies has {Entropies.Length} values for {ResponseTokenIds.Length} response tokens");
        if ((ParentSample < 0) != (BranchToken < 0) || ParentSample < -1 || BranchToken < -1)
            throw new ArgumentException($"row {PromptUid}/{SampleIndex}: parent_sample ({ParentSample}) and branch_token ({BranchToken}) must both be −1 (a sample) or both ≥ 0 (a continuation)");
        if (FinishReason is not ("stop" or "length"))
            throw new ArgumentException($"row {PromptUid}/{SampleIndex}: finish_reason must be \"stop\" or \"length\", got \"{FinishReason}\"");
    }

    /// <summary>Field-by-field equality (arrays by content, floats by bits).</summary>
    public bool SameAs(RolloutRow o) =>
        RunId == o.RunId && Iteration == o.Iteration && PolicyVersion == o.PolicyVersion && PromptUid == o.PromptUid && SampleIndex == o.SampleIndex
        && DataSource == o.DataSource && PromptTokenIds.AsSpan().SequenceEqual(o.PromptTokenIds) && ResponseTokenIds.AsSpan().SequenceEqual(o.ResponseTokenIds)
        && Bits(OldLogprobs).SequenceEqual(Bits(o.OldLogprobs)) && (Entropies is null ? o.Entropies is null : o.Entropies is not null && Bits(Entropies).SequenceEqual(Bits(o.Entropies)))
        && ResponseText == o.ResponseText && GroundTruth == o.GroundTruth && BitConverter.DoubleToInt64Bits(Reward) == BitConverter.DoubleToInt64Bits(o.Reward)
        && RewardComponents.Count == o.RewardComponents.Count && RewardComponents.All(kv => o.RewardComponents.TryGetValue(kv.Key, out var v) && v.Equals(kv.Value))
        && FinishReason == o.FinishReason && Temperature.Equals(o.Temperature) && TopP.Equals(o.TopP) && TopK == o.TopK && Seed == o.Seed
        && ParentSample == o.ParentSample && BranchToken == o.BranchToken;

    private static IEnumerable<int> Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits);
}
