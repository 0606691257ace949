namespace Aspo.Model;

/// <summary>One named parameter tensor: its Hugging Face name, shape, and where it sits in the parameter slab.</summary>
public sealed record ParameterTensor(string Name, long[] Shape, long Offset)
{
    public long Count => Shape.Aggregate(1L, (a, d) => a * d);
}
