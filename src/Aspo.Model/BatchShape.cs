namespace Aspo.Model;

/// <summary>
/// The shape of one packed batch: N tokens in B sequences, and the S scored (response) tokens — for each, the row
/// whose logits predict it (the previous position) and its token id.
/// </summary>
internal sealed class BatchShape
{
    public required int Tokens { get; init; }
    public required int Sequences { get; init; }
    public required int[] Offsets { get; init; }      // [B+1]
    public required int[] TokenIds { get; init; }     // [N]
    public required int MaxLength { get; init; }
    public required int[] ScoredRows { get; init; }   // [S]
    public required int[] Targets { get; init; }      // [S]
    public required long[] ProbStarts { get; init; }  // [B]: where sequence b's H·T_b² attention probabilities start
    public required long ProbCount { get; init; }
    public required float InverseTemperature { get; init; }
    public int Scored => Targets.Length;

    public int ProbOffset(int sequence, int head, int heads)
    {
        var t = Offsets[sequence + 1] - Offsets[sequence];
        return checked((int)(ProbStarts[sequence] + (long)head * t * t));
    }

    public static BatchShape Create(ModelConfig config, ReadOnlySpan<int> tokens, ReadOnlySpan<int> offsets, ReadOnlySpan<int> responseStarts, float temperature)
    {
        if (!(temperature > 0) || float.IsInfinity(temperature))
            throw new ArgumentException($"temperature must be a positive number, got {temperature}");
        var b = offsets.Length - 1;
        if (b < 1 || offsets[0] != 0 || offsets[^1] != tokens.Length)
            throw new ArgumentException($"sequence offsets must start at 0 and end at the token count {tokens.Length}");
        if (responseStarts.Length != b)
            throw new ArgumentException($"{b} sequences need {b} response starts, got {responseStarts.Length}");
        for (var t = 0; t < tokens.Length; t++)
            if ((uint)tokens[t] >= (uint)config.VocabSize)
                throw new ArgumentException($"token id {tokens[t]} at position {t} is outside the vocabulary [0, {config.VocabSize})");
        var rows = new List<int>();
        var targets = new List<int>();
        var probStarts = new long[b];
        long probs = 0;
        var maxLength = 0;
        for (var i = 0; i < b; i++)
        {
            int start = offsets[i], length = offsets[i + 1] - start;
            if (length < 1)
                throw new ArgumentException($"sequence {i} is empty");
            if (responseStarts[i] < 1 || responseStarts[i] > length)
                throw new ArgumentException($"sequence {i}: response start {responseStarts[i]} must be in [1, {length}] (the first token has no logits before it)");
            maxLength = Math.Max(maxLength, length);
            probStarts[i] = probs;
            probs += (long)config.NumHeads * length * length;
            for (var t = responseStarts[i]; t < length; t++)
            {
                rows.Add(start + t - 1);
                targets.Add(tokens[start + t]);
            }
        }
        if (probs > Array.MaxLength)
            throw new ArgumentException($"the batch's attention needs {probs:N0} probabilities (heads × Σ length²) in one buffer, more than {Array.MaxLength:N0}: " +
                $"its longest sequence ({maxLength} tokens) is too long for the learner; split it or use a smaller micro-batch");
        return new BatchShape
        {
            Tokens = tokens.Length, Sequences = b, Offsets = offsets.ToArray(), TokenIds = tokens.ToArray(), MaxLength = maxLength,
            ScoredRows = rows.ToArray(), Targets = targets.ToArray(), ProbStarts = probStarts, ProbCount = probs,
            InverseTemperature = 1f / temperature,
        };
    }
}
