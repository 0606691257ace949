using Aspo.Model;

namespace Aspo.Pipeline;

/// <summary>
/// PPO with a critic (algorithm.advantage gae): the value head on the policy's trunk and, per rollout row and response
/// token, the values before the update (V_old) and GAE's returns (the head's targets).
/// </summary>
public sealed record CriticInputs(ValueHead Head, IReadOnlyList<float[]> OldValues, IReadOnlyList<float[]> Returns)
{
    /// <summary>vf_coef: the weight of the value loss in the trunk's gradient.</summary>
    public double ValueCoefficient { get; init; } = 0.1;
    /// <summary>cliprange_value: how far V may move from V_old before the clipped term takes over.</summary>
    public double ClipRange { get; init; } = 0.2;
    /// <summary>The value head's own AdamW learning rate.</summary>
    public double LearningRate { get; init; } = 1e-4;
}
