namespace Aspo.Algorithms;

/// <summary>Two responses to one prompt, by index into the batch: <see cref="Chosen"/> scored strictly higher than <see cref="Rejected"/>.</summary>
public readonly record struct PreferencePair(int Chosen, int Rejected);
