namespace Aspo.Model;

/// <summary>An optimizer step produced non-finite gradients or parameters; the message names the tensor and the step.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
