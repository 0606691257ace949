using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aspo.Model;

/// <summary>llama3 <c>rope_scaling</c>: low-frequency wavelengths are divided by <see cref="Factor"/>, with a smooth band.</summary>
public sealed record Llama3RopeScaling(double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings);
