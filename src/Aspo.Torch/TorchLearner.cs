using Aspo.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Aspo.Torch;

/// <summary>The learner seam on TorchSharp: <see cref="TorchDecoder"/> (autograd) and <see cref="TorchAdamW"/>, CPU or CUDA, fp32 or bf16 GEMMs.</summary>
public sealed class TorchLearner : ILearner
{
    private readonly TorchDecoder _decoder;
    private readonly TorchAdamW _optimizer;

    public TorchLearner(ModelConfig config, float[] parameters, LearnerOptions options)
    {
        if (options.Backend != LearnerBackend.Torch)
            throw new ArgumentException($"TorchLearner got backend {options.Backend}");
        var device = TorchRuntime.Device(options.Device);
        if (options.Threads > 0)
            torch.set_num_threads(options.Threads);
        Options = options;
        _decoder = new TorchDecoder(config, parameters, device, options.Precision);
        _optimizer = new TorchAdamW(_decoder.Flat, _decoder.Gradient, options.Optimizer);
    }

    public ModelConfig Config => _decoder.Config;
    public LearnerOptions Options { get; }
    public long OptimizerStep => _optimizer.Step;

    public void Score(PackedSequences batch, float temperature, Span<float> logProbs, Span<float> entropies, bool forTraining) =>
        _decoder.Score(batch, temperature, logProbs, entropies, forTraining);

    public void Backward(ReadOnlySpan<float> dLogProbs, ReadOnlySpan<float> dEntropies) => _decoder.Backward(dLogProbs, dEntropies);

    public void ZeroGradients()
    {
        using var _ = no_grad();
        _decoder.Gradient.fill_(0); // (TorchSharp's zero_ returns a second handle that would wait for the finaliser)
    }

    /// <summary>torch.nn.utils.clip_grad_norm_ on the one gradient tensor: the norm of each 2^24-element slice (fp32
    /// reduction, no temporary), their squares summed in fp64, the gradient scaled by max/(norm + 1e-6) when above.</summary>
    public double ClipGradients(double maxNorm)
    {
        var gradient = _decoder.Gradient;
        using var _ = no_grad();
        double sum = 0;
        var count = gradient.shape[0];
        for (long start = 0; start < count; start += 1L << 24)
        {
            using var scope = NewDisposeScope();
            var norm = gradient.narrow(0, start, Math.Min(1L << 24, count - start)).norm().item<float>();
            sum += (double)norm * norm;
        }
        var value = Math.Sqrt(sum);
        if (maxNorm > 0 && value > maxNorm)
            gradient.mul_(maxNorm / (value + 1e-6));
        return value;
    }

    public void OptimizerUpdate(double lr) => _optimizer.Update(lr);

    public float[] ReadParameters() => TorchAdamW.ToHost(_decoder.Flat);

    public float[] ReadGradients() => TorchAdamW.ToHost(_decoder.Gradient);

    /// <summary>Replaces the gradient slab (tests of the optimizer on fixed gradients).</summary>
    internal void SetGradients(float[] gradients)
    {
        using var _ = no_grad();
        using var host = from_array(gradients);
        _decoder.Gradient.copy_(host);
    }

    public string? FirstNonFiniteTensor(bool gradients)
    {
        var slab = gradients ? _decoder.Gradient : _decoder.Flat;
        using var _ = no_grad();
        using (var scope = NewDisposeScope())
        {
            if (slab.isfinite().all().item<bool>())
                return null;
        }
        return Finite.FirstNonFiniteTensor(_decoder.Layout, TorchAdamW.ToHost(slab));
    }

    public void SaveCheckpoint(string folder) => Checkpoint.Save(folder, Config, ReadParameters());

    public void SaveOptimizer(string path) => _optimizer.Save(path);

    public void LoadOptimizer(string path) => _optimizer.Load(path);

    public void Dispose()
    {
        _optimizer.Dispose();
        _decoder.Dispose();
        Aspo.Native.LibTorchNative.ReleaseFreeMemory(); // the heap kept the learner's blocks for reuse (TorchRuntime.Start)
    }
}
