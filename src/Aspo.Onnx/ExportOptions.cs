using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Model;
using Aspo.Onnx.Proto;
using Google.Protobuf;
using DataType = Aspo.Onnx.Proto.TensorProto.Types.DataType;

namespace Aspo.Onnx;

/// <summary>Export options. Int4: every projection MatMul (not the lm_head: log-prob fidelity) as MatMulNBits.</summary>
public sealed record ExportOptions
{
    public int? ContextLength { get; init; }
    public bool Int4 { get; init; }
    /// <summary>MatMulNBits accuracy_level: 4 = int8 activations (fastest on CPU), 1 = fp32 compute (exact to the dequantized weights).</summary>
    public int Int4AccuracyLevel { get; init; } = 4;
    /// <summary>Append the in-graph sampler (<see cref="Aspo.Onnx.SamplingHead"/>): a decode step can return tokens, log-probs and entropies instead of logits.</summary>
    public bool SamplingHead { get; init; }
}
