using Aspo.Data.Tokenization;

namespace Aspo.Onnx;

/// <summary>
/// The sampled tokens, log_softmax(logits/T)[token] over the full vocabulary in fp32 for each (T = 1 when greedy),
/// the entropies when asked, and why it stopped ("stop": a stop token or string; "length": max new tokens).
/// </summary>
public sealed record GenerationResult(int[] Tokens, float[] LogProbs, float[]? Entropies, string FinishReason, string? Text);
