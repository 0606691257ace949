namespace Aspo.Model.Tests;

/// <summary>The native learner (<see cref="Decoder"/> + <see cref="AdamW"/>) against the PyTorch fixtures.</summary>
public sealed class NativeLearnerGoldenTests : LearnerGoldenTests
{
    protected override ILearner Create(ModelConfig config, float[] parameters, AdamWOptions adam) =>
        new NativeLearner(config, parameters, new LearnerOptions { Optimizer = adam });

    protected override void SetGradients(ILearner learner, float[] gradients) => gradients.CopyTo(((NativeLearner)learner).Decoder.Gradients, 0);
}
