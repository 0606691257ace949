namespace Aspo.Pipeline;

/// <summary>The stages of one iteration, in the order the loop runs them (<see cref="Init"/>: only the starting policy exists).</summary>
public enum Stage { Init, Export, Rollout, Learn, Eval }
