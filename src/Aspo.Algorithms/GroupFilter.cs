namespace Aspo.Algorithms;

/// <summary>DAPO's group filter: which groups carry an advantage signal at all.</summary>
public static class GroupFilter
{
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
}
