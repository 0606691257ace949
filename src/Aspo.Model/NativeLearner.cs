using Aspo.Native.Blas;

namespace Aspo.Model;

/// <summary>The learner seam over this project's <see cref="Decoder"/> and <see cref="AdamW"/> (one fp32 slab each for
/// parameters, gradients and moments).</summary>
public sealed class NativeLearner : ILearner
{
    private readonly AdamW _optimizer;

    public NativeLearner(ModelConfig config, float[] parameters, LearnerOptions options)
    {
        if (options.Backend != LearnerBackend.Native)
            throw new ArgumentException($"NativeLearner got backend {options.Backend}");
        if (options.Device != "cpu")
            throw new ArgumentException($"learner.device '{options.Device}': the native learner runs on the CPU; use learner.backend torch for CUDA");
        if (options.Precision != LearnerPrecision.Fp32)
            throw new ArgumentException("learner.dtype bf16 is not available in the native learner yet; use learner.backend torch for bf16");
        Options = options;
        Decoder = new Decoder(config, parameters, GemmBackends.CreateDefault(options.Threads));
        _optimizer = new AdamW(parameters.LongLength, options.Optimizer);
    }

    public Decoder Decoder { get; }
    public ModelConfig Config => Decoder.Config;
    public LearnerOptions Options { get; }
    public long OptimizerStep => _optimizer.Step;

    public void Score(PackedSequences batch, float temperature, Span<float> logProbs, Span<float> entropies, bool forTraining) =>
        Decoder.Forward(batch.Tokens, batch.Offsets, batch.ResponseStarts, temperature, logProbs, entropies, forTraining);

    public void Backward(ReadOnlySpan<float> dLogProbs, ReadOnlySpan<float> dEntropies) => Decoder.Backward(dLogProbs, dEntropies);

    public void ZeroGradients() => Decoder.ZeroGradients();

    public double ClipGradients(double maxNorm) => AdamW.ClipGradientNorm(Decoder.Gradients, maxNorm);

    public void OptimizerUpdate(double lr) => _optimizer.Update(Decoder.Parameters, Decoder.Gradients, lr);

    public float[] ReadParameters() => (float[])Decoder.Parameters.Clone();

    public float[] ReadGradients() => (float[])Decoder.Gradients.Clone();

    public string? FirstNonFiniteTensor(bool gradients) =>
        Finite.FirstNonFiniteTensor(Decoder.Layout, gradients ? Decoder.Gradients : Decoder.Parameters);

    public void SaveCheckpoint(string folder) => Checkpoint.Save(folder, Config, Decoder.Parameters);

    public void SaveOptimizer(string path) => _optimizer.Save(path);

    public void LoadOptimizer(string path) => _optimizer.Load(path);

    public void Dispose()
    {
    }
}
