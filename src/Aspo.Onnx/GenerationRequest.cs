using Aspo.Data.Tokenization;

namespace Aspo.Onnx;

/// <summary>One prompt to complete, with the seed of its sample (derive it with <see cref="SampleSeeds.Derive"/>).</summary>
public sealed record GenerationRequest(int[] PromptIds, ulong Seed);
