using DataType = Aspo.Onnx.Proto.TensorProto.Types.DataType;

namespace Aspo.Onnx;

/// <summary>
/// The sampling step as ONNX nodes appended to the decoder graph, so a decode step returns [rows] tokens, log-probs and
/// entropies instead of [rows × vocabulary] logits (on a GPU the logits never leave the device). It computes exactly
/// what <see cref="Sampling.Sample"/> computes, given the same uniform number per row: weights
/// e = exp((z − max z)/T) in fp32, their sums and cumulative sums in fp64; plain sampling = inverse CDF over e in
/// vocabulary order; top-k/top-p = inverse CDF over the sorted kept prefix (ties: lower index first, as ONNX TopK);
/// T = 0 or top-k 1 = argmax (first maximum); log-prob = log_softmax(z/T)[token], entropy of softmax(z/T) (T = 1 when
/// greedy). The uniforms are drawn on the host from each sample's own seed, so determinism and batch-independence
/// stay those of the host sampler. The head's inputs are required (inputs with default initializers would keep ONNX
/// Runtime from folding constants and warn at every load), so a folder with the head is for our generator, not GenAI.
/// </summary>
public static class SamplingHead
{
    /// <summary>[1] fp32; 0 = greedy.</summary>
    public const string Temperature = "sampling_temperature";
    /// <summary>[1] int64; 0 = off.</summary>
    public const string TopK = "sampling_top_k";
    /// <summary>[1] fp32; 1 = off.</summary>
    public const string TopP = "sampling_top_p";
    /// <summary>[rows] fp64 in [0, 1): one uniform number per row (ignored when greedy).</summary>
    public const string Uniform = "sampling_uniform";
    /// <summary>[rows] int64.</summary>
    public const string Token = "next_token";
    /// <summary>[rows] fp32: log_softmax(logits/T)[token] over the full vocabulary.</summary>
    public const string LogProb = "next_logprob";
    /// <summary>[rows] fp32: entropy of softmax(logits/T).</summary>
    public const string Entropy = "next_entropy";

    public const string Auto = "auto", Host = "host", Graph = "graph";

    /// <summary>The rollout.sampler modes: auto (the head on a GPU, the host sampler on the CPU), host, graph.</summary>
    public static readonly string[] Modes = [Auto, Host, Graph];

    /// <summary>
    /// Whether a rollout on <paramref name="device"/> samples in the graph. On the CPU the host sampler measured as fast
    /// or faster (README, rollout benchmark), so auto keeps it there; on a GPU the head saves the logits copy.
    /// </summary>
    public static bool Enabled(string mode, string device) => mode == Graph || mode == Auto && device != "cpu";

    /// <summary>Appends the head reading the last position of <paramref name="logits"/> [batch, seq, vocab].</summary>
    public static void Append(OnnxGraphBuilder g, string logits, int vocab)
    {
        const string p = "/sampling_head/";
        var n = 0;
        string Op(string op, string[] inputs, IReadOnlyDictionary<string, object>? attributes = null)
        {
            var output = $"{p}{op}_{n++}";
            g.Node(op, inputs, [output], attributes: attributes, name: output);
            return output;
        }
        string Cast(string x, DataType to) => Op("Cast", [x], new Dictionary<string, object> { ["to"] = (long)to });
        string Const(string name, long value)
        {
            g.Initializer(p + name, [value], 1);
            return p + name;
        }
        string ConstF(string name, float value)
        {
            g.Initializer(p + name, [value], 1);
            return p + name;
        }
        g.Input(Temperature, DataType.Float, 1);
        g.Input(TopK, DataType.Int64, 1);
        g.Input(TopP, DataType.Float, 1);
        g.Input(Uniform, DataType.Double, "batch_size");
        g.Output(Token, DataType.Int64, "batch_size");
        g.Output(LogProb, DataType.Float, "batch_size");
        g.Output(Entropy, DataType.Float, "batch_size");

        var axisLast = Const("axis_last", -1);
        var axisOne = Const("axis_one", 1);
        var zero = Const("zero", 0);
        var one = Const("one", 1);
        var vocabSize = Const("vocab", vocab);
        var vocabLast = Const("vocab_last", vocab - 1);
        var oneF = ConstF("one_f", 1f);
        var zeroF = ConstF("zero_f", 0f);
        var big = Const("end", long.MaxValue);
        string Last(string x) => Op("Slice", [x, axisLast, big, axisOne]); // x[:, -1:]
        string Count(string condition) => // [B, 1] number of true entries per row
            Op("ReduceSum", [Cast(condition, DataType.Int64), axisLast], new Dictionary<string, object> { ["keepdims"] = 1L });
        string SqueezeRows(string x) => Op("Squeeze", [x, axisOne]);

        // z [B, V]: the last position's logits
        var z = SqueezeRows(Last(logits));
        // T = 0 or top-k 1: argmax; the weights then use T = 1
        var greedy = Op("Or", [Op("Equal", [Temperature, zeroF]), Op("Equal", [TopK, one])]);
        var t = Op("Where", [Op("Equal", [Temperature, zeroF]), oneF, Temperature]);
        var invT = Op("Div", [oneF, t]);
        var max = Op("ReduceMax", [z, axisLast], new Dictionary<string, object> { ["keepdims"] = 1L });
        var u = Op("Mul", [Op("Sub", [z, max]), invT]);               // [B, V] fp32, (z − max)/T
        var e = Op("Exp", [u]);                                         // [B, V] fp32 weights
        var scalarAxis = Op("Squeeze", [axisLast]);                     // CumSum takes its axis as a scalar
        var cumulative = Op("CumSum", [Cast(e, DataType.Double), scalarAxis]); // [B, V] fp64
        var total = Last(cumulative);                                   // [B, 1] Σ e
        var logTotal = Op("Log", [total]);
        var weighted = Op("ReduceSum", [Cast(Op("Mul", [e, u]), DataType.Double), axisLast], new Dictionary<string, object> { ["keepdims"] = 1L });
        var entropy = Op("Sub", [logTotal, Op("Div", [weighted, total])]);
        var uniform = Op("Unsqueeze", [Uniform, axisOne]);             // [B, 1]

        // plain sampling: the first index whose cumulative weight exceeds uniform · Σ e
        var plain = Op("Min", [Count(Op("LessOrEqual", [cumulative, Op("Mul", [uniform, total])])), vocabLast]);

        // top-k / top-p: k = min(top-k, V) when set, else V when top-p < 1 (else 1: the branch is unused)
        var kSet = Op("Greater", [TopK, zero]);
        var pSet = Op("Less", [TopP, oneF]);
        var k = Op("Where", [kSet, Op("Min", [TopK, vocabSize]), Op("Where", [pSet, vocabSize, one])]);
        var topValues = $"{p}TopK_values";
        var topIndices = $"{p}TopK_indices";
        g.Node("TopK", [e, k], [topValues, topIndices], attributes: new Dictionary<string, object> { ["axis"] = -1L, ["largest"] = 1L, ["sorted"] = 1L }, name: p + "TopK");
        var sortedCumulative = Op("CumSum", [Cast(topValues, DataType.Double), scalarAxis]); // [B, k]
        // top-p keeps the shortest prefix whose mass reaches top_p · (mass of the top k)
        var threshold = Op("Mul", [Cast(TopP, DataType.Double), Last(sortedCumulative)]);
        var keepP = Op("Min", [Op("Add", [Count(Op("Less", [sortedCumulative, threshold])), one]), k]);
        var keep = Op("Where", [pSet, keepP, k]);                       // [B, 1]
        var keepLast = Op("Sub", [keep, one]);
        var keptTotal = Op("GatherElements", [sortedCumulative, keepLast], new Dictionary<string, object> { ["axis"] = 1L });
        var inside = Op("Less", [Op("Range", [Op("Squeeze", [zero]), Op("Squeeze", [k]), Op("Squeeze", [one])]), keep]); // [B, k]
        var below = Op("And", [Op("LessOrEqual", [sortedCumulative, Op("Mul", [uniform, keptTotal])]), inside]);
        var position = Op("Min", [Count(below), keepLast]);
        var truncated = Op("GatherElements", [topIndices, position], new Dictionary<string, object> { ["axis"] = 1L });

        var argmax = Op("ArgMax", [z], new Dictionary<string, object> { ["axis"] = -1L, ["keepdims"] = 1L });
        var token = Op("Where", [greedy, argmax, Op("Where", [Op("Or", [kSet, pSet]), truncated, plain])]); // [B, 1]
        var chosen = Op("GatherElements", [u, token], new Dictionary<string, object> { ["axis"] = 1L });
        var logProb = Op("Sub", [Cast(chosen, DataType.Double), logTotal]);

        g.Node("Squeeze", [token, axisOne], [Token], name: p + "token");
        g.Node("Squeeze", [Cast(logProb, DataType.Float), axisOne], [LogProb], name: p + "logprob");
        g.Node("Squeeze", [Cast(entropy, DataType.Float), axisOne], [Entropy], name: p + "entropy");
    }
}
