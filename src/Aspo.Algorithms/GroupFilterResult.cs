namespace Aspo.Algorithms;

/// <summary>Groups seen, groups dropped (all scores equal), of which all solved / none solved.</summary>
public readonly record struct GroupFilterResult(int Groups, int Dropped, int SolvedAll, int SolvedNone);
