namespace Aspo.Algorithms;

/// <summary>
/// The per-token inputs of a policy loss for a batch of B responses laid out flat: N token slots in total,
/// sequence i owning slots <c>[SequenceOffsets[i], SequenceOffsets[i+1])</c> (padded or packed; padding has mask 0).
/// Shapes: every per-token span is [N]; <see cref="SequenceOffsets"/> is [B+1], starting at 0 and ending at N.
/// </summary>
public readonly ref struct TokenBatch
{
    /// <summary>ℓ = log π_θ(y_t): the current policy's log-probs, the quantity the gradient is taken against. [N]</summary>
    public required ReadOnlySpan<float> LogProbs { get; init; }

    /// <summary>ℓ_old: log-probs under the policy the update is anchored to. [N]</summary>
    public required ReadOnlySpan<float> OldLogProbs { get; init; }

    /// <summary>A: the advantage of each token (in outcome RL, its response's advantage). [N]</summary>
    public required ReadOnlySpan<float> Advantages { get; init; }

    /// <summary>m: 1 for a response token that counts, 0 for padding or prompt. [N]</summary>
    public required ReadOnlySpan<float> Mask { get; init; }

    /// <summary>Sequence boundaries. [B+1]</summary>
    public required ReadOnlySpan<int> SequenceOffsets { get; init; }

    /// <summary>H: the current policy's per-token entropy (detached); needed by aspo (entropy split) and forking_tokens. [N] or empty.</summary>
    public ReadOnlySpan<float> Entropies { get; init; }

    /// <summary>ℓ_roll: log-probs reported by the rollout engine; used by rollout correction. [N] or empty.</summary>
    public ReadOnlySpan<float> RolloutLogProbs { get; init; }

    /// <summary>ℓ_ref: the reference policy's log-probs; used by the KL term. [N] or empty.</summary>
    public ReadOnlySpan<float> RefLogProbs { get; init; }

    public int TokenCount => LogProbs.Length;
    public int SequenceCount => SequenceOffsets.Length - 1;

    /// <summary>Checks lengths and offsets; throws <see cref="ArgumentException"/> naming the span and what was expected.</summary>
    public void Validate()
    {
        var n = LogProbs.Length;
        Same(nameof(OldLogProbs), OldLogProbs.Length, n);
        Same(nameof(Advantages), Advantages.Length, n);
        Same(nameof(Mask), Mask.Length, n);
        Optional(nameof(Entropies), Entropies.Length, n);
        Optional(nameof(RolloutLogProbs), RolloutLogProbs.Length, n);
        Optional(nameof(RefLogProbs), RefLogProbs.Length, n);
        if (SequenceOffsets.Length < 1 || SequenceOffsets[0] != 0 || SequenceOffsets[^1] != n)
            throw new ArgumentException($"SequenceOffsets must start at 0 and end at the token count {n}, got [{string.Join(", ", SequenceOffsets.ToArray().Take(8))}{(SequenceOffsets.Length > 8 ? ", …" : "")}]");
        for (var i = 1; i < SequenceOffsets.Length; i++)
            if (SequenceOffsets[i] < SequenceOffsets[i - 1])
                throw new ArgumentException($"SequenceOffsets must not decrease: offset {i} is {SequenceOffsets[i]} after {SequenceOffsets[i - 1]}");
    }

    private static void Same(string name, int length, int n)
    {
        if (length != n)
            throw new ArgumentException($"{name} has {length} tokens, LogProbs has {n}");
    }

    private static void Optional(string name, int length, int n)
    {
        if (length != 0 && length != n)
            throw new ArgumentException($"{name} has {length} tokens, expected {n} (or none)");
    }
}
