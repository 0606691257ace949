using System.Numerics.Tensors;

namespace Aspo.Model;

/// <summary>Finiteness checks over parameter and gradient slabs (vectorised: the largest magnitude is NaN or ∞ exactly when one element is).</summary>
public static class Finite
{
    /// <summary>The index of the first NaN or ±∞ in <paramref name="values"/>, or null when all are finite.</summary>
    public static int? FirstNonFinite(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty || float.IsFinite(TensorPrimitives.MaxMagnitude(values)))
            return null;
        for (var i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                return i;
        return null;
    }

    /// <summary>The first tensor of <paramref name="layout"/> with a non-finite element in <paramref name="slab"/>, or null.</summary>
    public static string? FirstNonFiniteTensor(ParameterLayout layout, ReadOnlySpan<float> slab)
    {
        if (slab.IsEmpty || float.IsFinite(TensorPrimitives.MaxMagnitude(slab)))
            return null;
        foreach (var t in layout.Tensors)
            if (FirstNonFinite(slab.Slice((int)t.Offset, (int)t.Count)) is not null)
                return t.Name;
        return null;
    }
}
