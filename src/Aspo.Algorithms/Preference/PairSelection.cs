namespace Aspo.Algorithms;

/// <summary>Which preference pairs a prompt's group of scored responses yields.</summary>
public enum PairSelection
{
    /// <summary>One pair per group: its best response against its worst (none when all scores are equal).</summary>
    BestWorst,

    /// <summary>Every (i, j) of the group with score i &gt; score j.</summary>
    All,
}
