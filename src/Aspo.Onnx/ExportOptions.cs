using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Model;
using Aspo.Onnx.Proto;
using Google.Protobuf;
using DataType = Aspo.Onnx.Proto.TensorProto.Types.DataType;

namespace Aspo.Onnx;

/// <summary>
/// Export options. Int4: every projection MatMul as 4-bit MatMulNBits and the lm_head as 8-bit MatMulNBits (unless
/// <see cref="LmHeadBits"/> says otherwise): on the Qwen2.5-0.5B shapes at batch 16 the fp32 head (545 MB read per step)
/// held int4 decode to 9× PyTorch, the int8 head makes it 11–12× and adds no measurable log-prob mismatch over the int4
/// projections' (tools/bench/run rollout-int4).
/// </summary>
public sealed record ExportOptions
{
    public int? ContextLength { get; init; }
    public bool Int4 { get; init; }
    /// <summary>The lm_head's weights: 0 = fp32 MatMul, 8 or 4 = MatMulNBits with that many bits; null = 8 with <see cref="Int4"/>, else 0.</summary>
    public int? LmHeadBits { get; init; }

    public int HeadBits => LmHeadBits ?? (Int4 ? 8 : 0);
    /// <summary>MatMulNBits accuracy_level: 4 = int8 activations (fastest on CPU), 1 = fp32 compute (exact to the dequantized weights).</summary>
    public int Int4AccuracyLevel { get; init; } = 4;
    /// <summary>Append the in-graph sampler (<see cref="Aspo.Onnx.SamplingHead"/>): a decode step can return tokens, log-probs and entropies instead of logits.</summary>
    public bool SamplingHead { get; init; }
}
