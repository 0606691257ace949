using Aspo.Native.Blas;

namespace Aspo.Model;

/// <summary>The learner seam over this project's <see cref="Decoder"/> and <see cref="AdamW"/> (one fp32 slab each for
/// parameters, gradients and moments).</summary>
public sealed class NativeLearner : ILearner
{
    private readonly AdamW _optimizer;
    private readonly Bf16Gemm? _bf16; // learner.dtype bf16: the linear layers' GEMM, with the slab's bf16 mirror

    public NativeLearner(ModelConfig config, float[] parameters, LearnerOptions options)
    {
        if (options.Backend != LearnerBackend.Native)
            throw new ArgumentException($"NativeLearner got backend {options.Backend}");
        if (options.Device != "cpu")
            throw new ArgumentException($"learner.device '{options.Device}': the native learner runs on the CPU; use learner.backend torch for CUDA");
        Options = options;
        var gemm = GemmBackends.CreateDefault(options.Threads);
        if (options.Precision == LearnerPrecision.Bf16)
        {
            // bf16 operands, fp32 accumulation and outputs in the linear layers; attention, norms, the vocabulary head,
            // log-softmax, gradients and AdamW stay fp32 on the fp32 master slab
            if (gemm is not IBf16Gemm bf16)
                throw new ArgumentException($"learner.dtype bf16 needs a GEMM backend with bf16 products (ASPO_GEMM=onednn or reference); {gemm.Name} has none");
            _bf16 = new Bf16Gemm(bf16, parameters);
        }
        Decoder = new Decoder(config, parameters, gemm, _bf16);
        _optimizer = new AdamW(parameters.LongLength, options.Optimizer);
    }

    public Decoder Decoder { get; }
    public ModelConfig Config => Decoder.Config;
    public LearnerOptions Options { get; }
    public long OptimizerStep => _optimizer.Step;

    public void Score(PackedSequences batch, float temperature, Span<float> logProbs, Span<float> entropies, bool forTraining) =>
        Decoder.Forward(batch.Tokens, batch.Offsets, batch.ResponseStarts, temperature, logProbs, entropies, forTraining);

    public void Backward(ReadOnlySpan<float> dLogProbs, ReadOnlySpan<float> dEntropies) => Decoder.Backward(dLogProbs, dEntropies);

    public void ScoredHidden(Span<float> hidden) => Decoder.ScoredHidden(hidden);

    public void Backward(ReadOnlySpan<float> dLogProbs, ReadOnlySpan<float> dEntropies, ReadOnlySpan<float> dScoredHidden) =>
        Decoder.Backward(dLogProbs, dEntropies, dScoredHidden);

    public void ZeroGradients() => Decoder.ZeroGradients();

    public double ClipGradients(double maxNorm) => AdamW.ClipGradientNorm(Decoder.Gradients, maxNorm);

    public void OptimizerUpdate(double lr)
    {
        _optimizer.Update(Decoder.Parameters, Decoder.Gradients, lr);
        _bf16?.WeightsChanged();
    }

    public float[] ReadParameters() => (float[])Decoder.Parameters.Clone();

    public float[] ReadGradients() => (float[])Decoder.Gradients.Clone();

    public string? FirstNonFiniteTensor(bool gradients) =>
        Finite.FirstNonFiniteTensor(Decoder.Layout, gradients ? Decoder.Gradients : Decoder.Parameters);

    public void SaveCheckpoint(string folder) => Checkpoint.Save(folder, Config, Decoder.Parameters);

    public void SaveOptimizer(string path) => _optimizer.Save(path);

    public void LoadOptimizer(string path) => _optimizer.Load(path);

    public void Dispose() => _bf16?.Dispose();
}
