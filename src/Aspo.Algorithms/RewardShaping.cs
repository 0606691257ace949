namespace Aspo.Algorithms;

/// <summary>Reward shaping and batch filtering around the advantage (DAPO, Archer2.0).</summary>
public static class RewardShaping
{
    /// <summary>
    /// DAPO soft overlong punishment (verl DAPO reward manager): with expected = maxLength − buffer,
    /// penalty = min(−(length − expected) / buffer · factor, 0), added to the score.
    /// </summary>
    public static double OverlongPenalty(int responseLength, int maxResponseLength, int bufferLength, double penaltyFactor = 1.0)
    {
        if (bufferLength <= 0 || bufferLength > maxResponseLength)
            throw new ArgumentException($"overlong buffer must be in 1..{maxResponseLength} (the max response length), got {bufferLength}", nameof(bufferLength));
        var expected = maxResponseLength - bufferLength;
        return Math.Min(-(double)(responseLength - expected) / bufferLength * penaltyFactor, 0);
    }

    /// <summary>
    /// DAPO dynamic-sampling filter: keep a group when its scores are not all equal (std &gt; 0) or it has a single
    /// member. Fills keep[i] per response and returns how many groups were dropped and why.
    /// </summary>
    public static GroupFilterResult FilterUninformativeGroups(ReadOnlySpan<float> scores, ReadOnlySpan<long> groupIds, Span<bool> keep,
        float solvedScore = 1f)
    {
        var groups = AdvantageEstimators.GroupStatistics(scores, groupIds);
        var min = new Dictionary<long, float>();
        var max = new Dictionary<long, float>();
        for (var i = 0; i < scores.Length; i++)
        {
            min[groupIds[i]] = Math.Min(min.GetValueOrDefault(groupIds[i], float.PositiveInfinity), scores[i]);
            max[groupIds[i]] = Math.Max(max.GetValueOrDefault(groupIds[i], float.NegativeInfinity), scores[i]);
        }
        int dropped = 0, solvedAll = 0, solvedNone = 0;
        var droppedIds = new HashSet<long>();
        foreach (var (id, g) in groups)
        {
            if (g.Count == 1 || min[id] != max[id])
                continue;
            droppedIds.Add(id);
            dropped++;
            if (min[id] >= solvedScore) solvedAll++; else solvedNone++;
        }
        for (var i = 0; i < scores.Length; i++)
            keep[i] = !droppedIds.Contains(groupIds[i]);
        return new GroupFilterResult(groups.Count, dropped, solvedAll, solvedNone);
    }

    /// <summary>tokenRewards[t] = score of sequence i on its last valid token, 0 elsewhere (verl's token_level_rewards).</summary>
    public static void PlaceOnLastToken(ReadOnlySpan<float> scores, ReadOnlySpan<int> sequenceOffsets, ReadOnlySpan<float> mask, Span<float> tokenRewards)
    {
        if (sequenceOffsets.Length != scores.Length + 1)
            throw new ArgumentException($"{scores.Length} scores need {scores.Length + 1} sequence offsets, got {sequenceOffsets.Length}");
        tokenRewards.Clear();
        for (var i = 0; i < scores.Length; i++)
            for (var t = sequenceOffsets[i + 1] - 1; t >= sequenceOffsets[i]; t--)
                if (mask[t] != 0)
                {
                    tokenRewards[t] = scores[i];
                    break;
                }
    }
}
