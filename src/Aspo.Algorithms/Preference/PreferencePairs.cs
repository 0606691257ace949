namespace Aspo.Algorithms;

/// <summary>Preference pairs from grouped rollouts: each prompt's sampled responses, ranked by their verifiable reward.</summary>
public static class PreferencePairs
{
    /// <summary>The pipeline.yaml names of <see cref="PairSelection"/>.</summary>
    public static IReadOnlyList<string> SelectionNames { get; } = ["best_worst", "all"];

    public static PairSelection ParseSelection(string name) => name switch
    {
        "best_worst" => PairSelection.BestWorst,
        "all" => PairSelection.All,
        _ => throw new ArgumentException($"unknown pair selection '{name}'; valid: {string.Join(", ", SelectionNames)}", nameof(name)),
    };

    /// <summary>
    /// The pairs of every group (responses sharing a group id), groups in order of first appearance. Ties are broken
    /// by index so the pairs are deterministic: best_worst takes the first response with the highest score and the
    /// first with the lowest; all lists (i, j) in index order of i, then j.
    /// </summary>
    public static List<PreferencePair> Build(ReadOnlySpan<float> scores, ReadOnlySpan<long> groupIds, PairSelection selection)
    {
        if (scores.Length != groupIds.Length)
            throw new ArgumentException($"scores ({scores.Length}) and groupIds ({groupIds.Length}) must have the same length");
        var members = new Dictionary<long, List<int>>();
        var order = new List<long>();
        for (var i = 0; i < scores.Length; i++)
        {
            if (!members.TryGetValue(groupIds[i], out var list))
            {
                members[groupIds[i]] = list = [];
                order.Add(groupIds[i]);
            }
            list.Add(i);
        }
        var pairs = new List<PreferencePair>();
        foreach (var id in order)
        {
            var group = members[id];
            if (selection == PairSelection.BestWorst)
            {
                int best = group[0], worst = group[0];
                foreach (var i in group)
                {
                    if (scores[i] > scores[best])
                        best = i;
                    if (scores[i] < scores[worst])
                        worst = i;
                }
                if (scores[best] > scores[worst])
                    pairs.Add(new PreferencePair(best, worst));
            }
            else
            {
                foreach (var i in group)
                    foreach (var j in group)
                        if (scores[i] > scores[j])
                            pairs.Add(new PreferencePair(i, j));
            }
        }
        return pairs;
    }
}
