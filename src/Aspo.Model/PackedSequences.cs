namespace Aspo.Model;

/// <summary>
/// Prompt + response sequences packed for one learner forward: the tokens back to back [Σ prompt + response], the
/// sequence offsets [B + 1], each sequence's response start [B], and the offsets of the scored response tokens [B + 1].
/// </summary>
public sealed record PackedSequences(int[] Tokens, int[] Offsets, int[] ResponseStarts, int[] ScoredOffsets)
{
    public int ScoredTokens => ScoredOffsets[^1];

    public static PackedSequences Pack(IReadOnlyList<(int[] Prompt, int[] Response)> sequences)
    {
        var b = sequences.Count;
        var offsets = new int[b + 1];
        var starts = new int[b];
        var scored = new int[b + 1];
        for (var k = 0; k < b; k++)
        {
            offsets[k + 1] = offsets[k] + sequences[k].Prompt.Length + sequences[k].Response.Length;
            starts[k] = sequences[k].Prompt.Length;
            scored[k + 1] = scored[k] + sequences[k].Response.Length;
        }
        var tokens = new int[offsets[^1]];
        for (var k = 0; k < b; k++)
        {
            sequences[k].Prompt.CopyTo(tokens, offsets[k]);
            sequences[k].Response.CopyTo(tokens, offsets[k] + sequences[k].Prompt.Length);
        }
        return new PackedSequences(tokens, offsets, starts, scored);
    }
}
