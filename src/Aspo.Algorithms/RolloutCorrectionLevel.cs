namespace Aspo.Algorithms;

public enum RolloutCorrectionLevel { Off, Token, Sequence }
