namespace Aspo.Model;

/// <summary>What one optimizer step did: the gradient norm before clipping, the learning rate used, the tokens scored.</summary>
public readonly record struct TrainerStepResult(double GradNorm, double LearningRate, int Tokens);
