using Aspo.Algorithms;

namespace Aspo.Pipeline.Config;

/// <summary>learner: which implementation trains the policy — the native C# learner or TorchSharp (CPU or CUDA) — and
/// the precision of its matrix multiplications. Changing it does not change the algorithm: checkpoints and optimizer
/// state are the same files, so a run may be resumed with another learner.</summary>
public sealed record LearnerSection
{
    public string Backend { get; init; } = "native";
    public string Device { get; init; } = "cpu";
    public string Dtype { get; init; } = "fp32";
}
