using System.Numerics.Tensors;

namespace Aspo.Model;

/// <summary>
/// A scalar value head on the policy's trunk (PPO's critic sharing the policy model, as TRL's
/// AutoModelForCausalLMWithValueHead): V = h·w + b on the final hidden state h [C] the lm_head reads. Parameters [C + 1]
/// (w, then b) start at zero, so the first values are 0 and the first advantages are Monte-Carlo returns. It keeps its
/// own gradients and AdamW state; <c>value_head.safetensors</c> in a policy folder holds weights, moments and step.
/// </summary>
public sealed class ValueHead
{
    public const string FileName = "value_head.safetensors";

    public ValueHead(int hidden, AdamWOptions? options = null)
    {
        Hidden = hidden;
        Parameters = new float[hidden + 1];
        Gradients = new float[hidden + 1];
        Optimizer = new AdamW(hidden + 1, options);
    }

    public int Hidden { get; }

    /// <summary>[C + 1]: w then b.</summary>
    public float[] Parameters { get; }

    /// <summary>[C + 1], accumulated by <see cref="Backward"/>.</summary>
    public float[] Gradients { get; }

    public AdamW Optimizer { get; }

    /// <summary>values[s] = hidden[s]·w + b for hidden [S, C], values [S].</summary>
    public void Values(ReadOnlySpan<float> hidden, Span<float> values)
    {
        var rows = Rows(hidden, values.Length);
        var w = Parameters.AsSpan(0, Hidden);
        var b = Parameters[Hidden];
        for (var s = 0; s < rows; s++)
            values[s] = TensorPrimitives.Dot(hidden.Slice(s * Hidden, Hidden), w) + b;
    }

    /// <summary>
    /// Given ∂L/∂V per row [S]: accumulates ∂L/∂w = Σ dV·h and ∂L/∂b = Σ dV into <see cref="Gradients"/> and writes
    /// ∂L/∂h = dV·w [S, C] into <paramref name="dHidden"/> (the trunk's share, for the learner's backward).
    /// </summary>
    public void Backward(ReadOnlySpan<float> hidden, ReadOnlySpan<float> dValues, Span<float> dHidden)
    {
        var rows = Rows(hidden, dValues.Length);
        if (dHidden.Length != hidden.Length)
            throw new ArgumentException($"dHidden has {dHidden.Length} floats, hidden {hidden.Length}");
        var w = Parameters.AsSpan(0, Hidden);
        var dw = Gradients.AsSpan(0, Hidden);
        double db = 0;
        for (var s = 0; s < rows; s++)
        {
            var dv = dValues[s];
            TensorPrimitives.MultiplyAdd(hidden.Slice(s * Hidden, Hidden), dv, dw, dw);
            TensorPrimitives.Multiply(w, dv, dHidden.Slice(s * Hidden, Hidden));
            db += dv;
        }
        Gradients[Hidden] += (float)db;
    }

    public void ZeroGradients() => Array.Clear(Gradients);

    /// <summary>Clips the head's gradient norm to <paramref name="maxNorm"/> (0 = measure only); returns the norm before.</summary>
    public double ClipGradients(double maxNorm) => AdamW.ClipGradientNorm(Gradients, maxNorm);

    public void OptimizerUpdate(double lr) => Optimizer.Update(Parameters, Gradients, lr);

    /// <summary>Writes the weights, AdamW moments and step into <paramref name="folder"/>/<see cref="FileName"/>.</summary>
    public void Save(string folder) => SafeTensorsWriter.WriteFloat32(Path.Combine(folder, FileName),
    [
        ("value_head.weight", [1, Hidden], Parameters.AsMemory(0, Hidden)), ("value_head.bias", [1], Parameters.AsMemory(Hidden, 1)),
        ("m", [Hidden + 1], Optimizer.M), ("v", [Hidden + 1], Optimizer.V), ("step", [1], new[] { (float)Optimizer.Step }),
    ]);

    /// <summary>The head saved in <paramref name="folder"/>, or a fresh (zero) one when the folder has none (the starting policy).</summary>
    public static ValueHead LoadOrCreate(string folder, int hidden, AdamWOptions? options = null)
    {
        var head = new ValueHead(hidden, options);
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
            return head;
        using var reader = new SafeTensorsReader(path);
        reader.ReadFloat32("value_head.weight", [1, hidden], head.Parameters.AsSpan(0, hidden));
        reader.ReadFloat32("value_head.bias", [1], head.Parameters.AsSpan(hidden, 1));
        head.Optimizer.Load(path);
        return head;
    }

    private int Rows(ReadOnlySpan<float> hidden, int rows)
    {
        if (hidden.Length != rows * Hidden)
            throw new ArgumentException($"hidden has {hidden.Length} floats, expected {rows} rows × {Hidden}");
        return rows;
    }
}
