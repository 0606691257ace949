using Aspo.Model;
using static TorchSharp.torch;

namespace Aspo.Torch;

/// <summary>
/// AdamW as <see cref="AdamW"/> (and torch.optim.AdamW) computes it, in place on the parameter tensor [P] and its
/// gradient, with moments m, v [P] on the same device. The update runs in slices of 2^24 elements whose denominator
/// lives in one preallocated scratch slice, and every handle is disposed at once: stock torch.optim.AdamW left one
/// parameter-sized tensor per step to the .NET finaliser. State round-trips through the same
/// optimizer.safetensors as the native learner.
/// </summary>
internal sealed class TorchAdamW : IDisposable
{
    private const long SliceElements = 1L << 24;
    private readonly Tensor _parameters, _gradient;
    private readonly Tensor _m, _v;
    private readonly Tensor _scratch; // [min(P, slice)]: the denominator, reused every step (no allocation per step)

    /// <param name="parameters">[P], updated in place</param>
    /// <param name="gradient">[P], read</param>
    public TorchAdamW(Tensor parameters, Tensor gradient, AdamWOptions options)
    {
        options.Validate();
        Options = options;
        _parameters = parameters;
        _gradient = gradient;
        _m = zeros_like(parameters).DetachFromDisposeScope();
        _v = zeros_like(parameters).DetachFromDisposeScope();
        _scratch = empty([Math.Min(parameters.shape[0], SliceElements)], parameters.dtype, parameters.device).DetachFromDisposeScope();
    }

    public AdamWOptions Options { get; }
    public long Step { get; private set; }

    /// <summary>p ← p·(1 − lr·wd); m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²; p ← p − lr/(1 − β1ᵗ) · m / (√v/√(1 − β2ᵗ) + ε).</summary>
    public void Update(double lr)
    {
        var gradient = _gradient;
        Step++;
        double b1 = Options.Beta1, b2 = Options.Beta2;
        var stepSize = lr / (1 - Math.Pow(b1, Step));
        var bc2Sqrt = Math.Sqrt(1 - Math.Pow(b2, Step));
        var decay = 1 - lr * Options.WeightDecay;
        using var _ = no_grad();
        var count = _parameters.shape[0];
        for (long start = 0; start < count; start += SliceElements)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(SliceElements, count - start);
            var p = _parameters.narrow(0, start, length);
            var g = gradient.narrow(0, start, length);
            var m = _m.narrow(0, start, length);
            var v = _v.narrow(0, start, length);
            p.mul_(decay);
            m.mul_(b1).add_(g, alpha: 1 - b1);
            v.mul_(b2).addcmul_(g, g, value: 1 - b2);
            var denominator = _scratch.narrow(0, 0, length).copy_(v).sqrt_().div_(bc2Sqrt).add_(Options.Epsilon);
            p.addcdiv_(m, denominator, value: -stepSize);
        }
    }

    public void Save(string path) => Aspo.Model.AdamW.SaveState(path, ToHost(_m), ToHost(_v), Step);

    public void Load(string path)
    {
        var count = _m.shape[0];
        float[] m = new float[count], v = new float[count];
        Step = Aspo.Model.AdamW.LoadState(path, m, v);
        using var _ = no_grad();
        using var hostM = from_array(m);
        using var hostV = from_array(v);
        _m.copy_(hostM);
        _v.copy_(hostV);
    }

    internal static float[] ToHost(Tensor t)
    {
        using var host = t.detach().cpu().contiguous();
        var values = new float[host.shape[0]];
        host.data<float>().CopyTo(values);
        return values;
    }

    public void Dispose()
    {
        _scratch.Dispose();
        _m.Dispose();
        _v.Dispose();
    }
}
