namespace Aspo.Algorithms;

/// <summary><c>Truncate</c>: w = min(w, C) (TIS). <c>Mask</c>: w = w·[w ≤ C], tokens/sequences above C drop out (MIS).</summary>
public enum RolloutCorrectionMode { Truncate, Mask }
