using Aspo.Model;
using Aspo.Model.Tests;

namespace Aspo.Torch.Tests;

/// <summary>The torch learner against the PyTorch fixtures of all three families, with the native learner's bounds.</summary>
public sealed class TorchLearnerGoldenTests : LearnerGoldenTests
{
    protected override ILearner Create(ModelConfig config, float[] parameters, AdamWOptions adam) =>
        new TorchLearner(config, parameters, new LearnerOptions { Backend = LearnerBackend.Torch, Optimizer = adam });

    protected override void SetGradients(ILearner learner, float[] gradients) => ((TorchLearner)learner).SetGradients(gradients);
}
