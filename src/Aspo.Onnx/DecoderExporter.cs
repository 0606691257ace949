using Aspo.Native.Files;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspo.Model;
using Google.Protobuf;
using DataType = Aspo.Onnx.Proto.TensorProto.Types.DataType;

namespace Aspo.Onnx;

/// <summary>
/// Writes a decoder as an ONNX Runtime GenAI-style model folder: <c>model.onnx</c> + <c>model.onnx.data</c> (every large
/// initializer external), <c>genai_config.json</c>, and the tokenizer files. The graph follows the GenAI builder's CPU
/// layout (onnxruntime-genai's <c>builder.py</c>, docs/architecture.md "Export"): packed QKV MatMul, GroupQueryAttention with rotary fused (cos/sin
/// caches with llama3 scaling baked in), SkipSimplifiedLayerNormalization carrying the residual stream, SiLU MLP,
/// fp32 I/O; inputs input_ids, attention_mask, past_key_values.i.key/value; outputs logits, present.i.key/value.
/// Qwen3's per-head q/k RMSNorm is applied before GQA (q, k, v passed separately).
/// </summary>
public static class DecoderExporter
{
    public const string ModelFile = "model.onnx";
    public const string DataFile = "model.onnx.data";
    public const string GenAiConfigFile = "genai_config.json";

    /// <summary>Exports <paramref name="config"/> + <paramref name="parameters"/> into <paramref name="folder"/> (files written atomically).</summary>
    /// <param name="tokenizerFolder">folder whose tokenizer.json / tokenizer_config.json are copied (null: none)</param>
    public static void Export(ModelConfig config, float[] parameters, string folder, string? tokenizerFolder, int? contextLength = null) =>
        Export(config, parameters, folder, tokenizerFolder, new ExportOptions { ContextLength = contextLength });

    public static void Export(ModelConfig config, float[] parameters, string folder, string? tokenizerFolder, ExportOptions options)
    {
        var contextLength = options.ContextLength;
        var c = config;
        if (c.HeadDim % 16 != 0)
            throw new ModelFormatException($"head_dim {c.HeadDim} cannot be exported: ONNX Runtime's GroupQueryAttention with fused rotary needs a multiple of 16");
        var layout = new ParameterLayout(c);
        var ctx = contextLength ?? c.MaxPositionEmbeddings;
        Directory.CreateDirectory(folder);
        // the graph names its external data file by its final name; the data is renamed into place first
        byte[] model = [];
        AtomicFile.Write(Path.Combine(folder, DataFile), dataTemp =>
        {
            using var data = new FileStream(dataTemp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            var g = new OnnxGraphBuilder().Opset("com.microsoft", 1).UseExternalData(data, DataFile);
            Build(g, c, layout, parameters, ctx, options);
            model = g.Build(producer: "aspo-export").ToByteArray();
        });
        AtomicFile.WriteAllBytes(Path.Combine(folder, ModelFile), model);
        AtomicFile.WriteAllText(Path.Combine(folder, GenAiConfigFile), GenAiConfig(c, ctx).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(Path.Combine(folder, "config.json"), c.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        if (tokenizerFolder is not null)
            foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
                if (File.Exists(Path.Combine(tokenizerFolder, file)))
                    File.Copy(Path.Combine(tokenizerFolder, file), Path.Combine(folder, file), overwrite: true);
    }

    /// <summary>genai_config.json with the keys ONNX Runtime GenAI's parser knows (§2.1).</summary>
    public static JsonObject GenAiConfig(ModelConfig c, int contextLength)
    {
        var eos = c.EosTokenIds.Count > 0 ? c.EosTokenIds : [0];
        return new JsonObject
        {
            ["model"] = new JsonObject
            {
                ["type"] = c.Family.ToString().ToLowerInvariant(),
                ["bos_token_id"] = c.BosTokenId ?? eos[0],
                ["eos_token_id"] = eos.Count == 1 ? eos[0] : new JsonArray(eos.Select(e => (JsonNode)e).ToArray()),
                ["pad_token_id"] = eos[0],
                ["context_length"] = contextLength,
                ["vocab_size"] = c.VocabSize,
                ["decoder"] = new JsonObject
                {
                    ["session_options"] = new JsonObject { ["log_id"] = "onnxruntime-genai", ["provider_options"] = new JsonArray() },
                    ["filename"] = ModelFile,
                    ["head_size"] = c.HeadDim,
                    ["hidden_size"] = c.HiddenSize,
                    ["inputs"] = new JsonObject
                    {
                        ["input_ids"] = "input_ids", ["attention_mask"] = "attention_mask",
                        ["past_key_names"] = "past_key_values.%d.key", ["past_value_names"] = "past_key_values.%d.value",
                    },
                    ["outputs"] = new JsonObject
                    {
                        ["logits"] = "logits", ["present_key_names"] = "present.%d.key", ["present_value_names"] = "present.%d.value",
                    },
                    ["num_attention_heads"] = c.NumHeads,
                    ["num_hidden_layers"] = c.NumLayers,
                    ["num_key_value_heads"] = c.NumKvHeads,
                },
            },
            ["search"] = new JsonObject
            {
                ["do_sample"] = true, ["temperature"] = 1.0, ["top_k"] = 0, ["top_p"] = 1.0, ["max_length"] = contextLength,
                ["min_length"] = 0, ["num_beams"] = 1, ["num_return_sequences"] = 1, ["repetition_penalty"] = 1.0,
                ["past_present_share_buffer"] = true,
            },
        };
    }

    private static float[] Transposed(float[] p, long offset, int rows, int cols)
    {
        // HF Linear weight [out, in] → MatMul weight [in, out]
        var t = new float[rows * cols];
        for (var r = 0; r < rows; r++)
            for (var k = 0; k < cols; k++)
                t[k * rows + r] = p[offset + (long)r * cols + k];
        return t;
    }

    private static void Build(OnnxGraphBuilder g, ModelConfig c, ParameterLayout layout, float[] p, int ctx, ExportOptions options)
    {
        // y = x · Wᵀ for W [N, K] at slab offset; a MatMul on Wᵀ, or MatMulNBits on the quantized W
        void Linear(string name, string input, string output, long offset, int n, int k) =>
            LinearFrom(p, offset, name, input, output, n, k, options.Int4 ? 4 : 0);

        void LinearFrom(float[] source, long offset, string name, string input, string output, int n, int k, int bits)
        {
            if (bits != 0)
            {
                var (packed, scales) = BlockQuantizer.Quantize(source.AsSpan((int)offset, n * k), n, k, bits);
                g.Initializer($"{name}.weight_Q{bits}", packed, n, BlockQuantizer.Blocks(k), BlockQuantizer.BlockBytes(bits));
                g.Initializer($"{name}.weight_scales", scales, n, BlockQuantizer.Blocks(k));
                g.Node("MatMulNBits", [input, $"{name}.weight_Q{bits}", $"{name}.weight_scales"], [output], "com.microsoft",
                    new Dictionary<string, object>
                    {
                        ["K"] = (long)k, ["N"] = (long)n, ["bits"] = (long)bits, ["block_size"] = (long)BlockQuantizer.BlockSize,
                        ["accuracy_level"] = (long)options.Int4AccuracyLevel,
                    }, name.Replace(".", "/", StringComparison.Ordinal));
            }
            else
            {
                g.Initializer($"{name}.weight", Transposed(source, offset, n, k), k, n);
                g.Node("MatMul", [input, $"{name}.weight"], [output], name: name.Replace(".", "/", StringComparison.Ordinal));
            }
        }

        int C = c.HiddenSize, D = c.HeadDim, H = c.NumHeads, KV = c.NumKvHeads, F = c.IntermediateSize, V = c.VocabSize;
        int qd = H * D, kvd = KV * D;
        var eps = (float)c.RmsNormEps;
        g.Input("input_ids", DataType.Int64, "batch_size", "sequence_length");
        g.Input("attention_mask", DataType.Int64, "batch_size", "total_sequence_length");
        for (var i = 0; i < c.NumLayers; i++)
        {
            g.Input($"past_key_values.{i}.key", DataType.Float, "batch_size", KV, "past_sequence_length", D);
            g.Input($"past_key_values.{i}.value", DataType.Float, "batch_size", KV, "past_sequence_length", D);
        }
        g.Output("logits", DataType.Float, "batch_size", "sequence_length", V);
        for (var i = 0; i < c.NumLayers; i++)
        {
            g.Output($"present.{i}.key", DataType.Float, "batch_size", KV, "total_sequence_length", D);
            g.Output($"present.{i}.value", DataType.Float, "batch_size", KV, "total_sequence_length", D);
        }

        // seqlens_k = Σ mask − 1 (int32 [B]); total_seq_len = mask.shape[1] (int32 scalar)
        g.Initializer("/model/constants/INT64/[1]", new long[] { 1 }, 1);
        g.Initializer("/model/constants/INT64/1", new long[] { 1 });
        const string m = "/model/attn_mask_reformat/attn_mask_subgraph";
        g.Node("ReduceSum", ["attention_mask", "/model/constants/INT64/[1]"], [$"{m}/ReduceSum/output_0"], attributes: new Dictionary<string, object> { ["keepdims"] = 0L }, name: $"{m}/ReduceSum");
        g.Node("Sub", [$"{m}/ReduceSum/output_0", "/model/constants/INT64/[1]"], [$"{m}/Sub/output_0"], name: $"{m}/Sub");
        g.Node("Cast", [$"{m}/Sub/output_0"], ["seqlens_k"], attributes: new Dictionary<string, object> { ["to"] = 6L }, name: $"{m}/Sub/Cast");
        g.Node("Shape", ["attention_mask"], [$"{m}/Shape/output_0"], name: $"{m}/Shape");
        g.Node("Gather", [$"{m}/Shape/output_0", "/model/constants/INT64/1"], [$"{m}/Gather/output_0"], attributes: new Dictionary<string, object> { ["axis"] = 0L }, name: $"{m}/Gather");
        g.Node("Cast", [$"{m}/Gather/output_0"], ["total_seq_len"], attributes: new Dictionary<string, object> { ["to"] = 6L }, name: $"{m}/Gather/Cast");

        // rotary caches [ctx, D/2] with the same inverse frequencies as the learner
        var inv = Decoder.RopeInverseFrequencies(c);
        var cos = new float[ctx * (D / 2)];
        var sin = new float[ctx * (D / 2)];
        for (var t = 0; t < ctx; t++)
            for (var j = 0; j < D / 2; j++)
            {
                var angle = t * inv[j];
                cos[t * (D / 2) + j] = MathF.Cos(angle);
                sin[t * (D / 2) + j] = MathF.Sin(angle);
            }
        g.Initializer("cos_cache", cos, ctx, D / 2);
        g.Initializer("sin_cache", sin, ctx, D / 2);
        if (c.HasQkNorm)
        {
            g.Initializer("/model/constants/shape/q_heads", new long[] { 0, 0, H, D }, 4);
            g.Initializer("/model/constants/shape/kv_heads", new long[] { 0, 0, KV, D }, 4);
            g.Initializer("/model/constants/shape/q_flat", new long[] { 0, 0, qd }, 3);
            g.Initializer("/model/constants/shape/kv_flat", new long[] { 0, 0, kvd }, 3);
            g.Initializer("/model/constants/split/qkv", new long[] { qd, kvd, kvd }, 3);
        }

        g.Initializer("model.embed_tokens.weight", p.AsSpan((int)layout.Embedding, V * C), V, C);
        g.Node("Gather", ["model.embed_tokens.weight", "input_ids"], ["/model/embed_tokens/Gather/output_0"], name: "/model/embed_tokens/Gather");

        var residual = "/model/embed_tokens/Gather/output_0";
        var skip = "";
        for (var i = 0; i < c.NumLayers; i++)
        {
            var L = layout.Layers[i];
            var pre = $"/model/layers.{i}";
            // input norm (the previous layer's MLP output is added to the residual stream here)
            var norm1 = $"{pre}/input_layernorm/output_0";
            g.Initializer($"model.layers.{i}.input_layernorm.weight", p.AsSpan((int)L.InputNorm, C), C);
            if (i == 0)
                g.Node("SimplifiedLayerNormalization", [residual, $"model.layers.{i}.input_layernorm.weight"], [norm1],
                    attributes: new Dictionary<string, object> { ["epsilon"] = eps, ["axis"] = -1L, ["stash_type"] = 1L }, name: $"{pre}/input_layernorm/LayerNorm");
            else
            {
                var sum = $"{pre}/input_layernorm/output_3";
                g.Node("SkipSimplifiedLayerNormalization", [residual, skip, $"model.layers.{i}.input_layernorm.weight"], [norm1, "", "", sum], "com.microsoft",
                    new Dictionary<string, object> { ["epsilon"] = eps }, $"{pre}/input_layernorm/SkipLayerNorm");
                residual = sum;
            }

            // packed QKV projection: the q, k, v weights [out, C] stacked into one [(H + 2·KV)·D, C] (+ bias)
            var qkvSlab = new float[(qd + 2 * kvd) * C];
            Array.Copy(p, L.Wq, qkvSlab, 0, qd * C);
            Array.Copy(p, L.Wk, qkvSlab, qd * C, kvd * C);
            Array.Copy(p, L.Wv, qkvSlab, (qd + kvd) * C, kvd * C);
            var qkv = $"{pre}/attn/qkv_proj/MatMul/output_0";
            LinearFrom(qkvSlab, 0, $"model.layers.{i}.attn.qkv_proj.MatMul", norm1, qkv, qd + 2 * kvd, C, options.Int4 ? 4 : 0);
            if (L.Bq >= 0)
            {
                var bias = p.AsSpan((int)L.Bq, qd).ToArray().Concat(p.AsSpan((int)L.Bk, kvd).ToArray()).Concat(p.AsSpan((int)L.Bv, kvd).ToArray()).ToArray();
                g.Initializer($"model.layers.{i}.attn.qkv_proj.Add.bias", bias, qd + 2 * kvd);
                g.Node("Add", [qkv, $"model.layers.{i}.attn.qkv_proj.Add.bias"], [$"{pre}/attn/qkv_proj/Add/output_0"], name: $"{pre}/attn/qkv_proj/Add");
                qkv = $"{pre}/attn/qkv_proj/Add/output_0";
            }

            string[] gqaInputs;
            if (c.HasQkNorm)
            {
                // Qwen3: split, per-head RMSNorm of q and k, then q, k, v to GQA separately
                g.Node("Split", [qkv, "/model/constants/split/qkv"], [$"{pre}/attn/q", $"{pre}/attn/k", $"{pre}/attn/v"],
                    attributes: new Dictionary<string, object> { ["axis"] = -1L }, name: $"{pre}/attn/qkv_split");
                string Norm(string input, string weight, long offset, string heads, string flat, string tag)
                {
                    g.Initializer(weight, p.AsSpan((int)offset, D), D);
                    g.Node("Reshape", [input, heads], [$"{pre}/attn/{tag}_heads"], name: $"{pre}/attn/{tag}_norm/Reshape");
                    g.Node("SimplifiedLayerNormalization", [$"{pre}/attn/{tag}_heads", weight], [$"{pre}/attn/{tag}_normed"],
                        attributes: new Dictionary<string, object> { ["epsilon"] = eps, ["axis"] = -1L, ["stash_type"] = 1L }, name: $"{pre}/attn/{tag}_norm/LayerNorm");
                    g.Node("Reshape", [$"{pre}/attn/{tag}_normed", flat], [$"{pre}/attn/{tag}_flat"], name: $"{pre}/attn/{tag}_norm/Reshape_1");
                    return $"{pre}/attn/{tag}_flat";
                }
                var q = Norm($"{pre}/attn/q", $"model.layers.{i}.attn.q_norm.weight", L.QNorm, "/model/constants/shape/q_heads", "/model/constants/shape/q_flat", "q");
                var k = Norm($"{pre}/attn/k", $"model.layers.{i}.attn.k_norm.weight", L.KNorm, "/model/constants/shape/kv_heads", "/model/constants/shape/kv_flat", "k");
                gqaInputs = [q, k, $"{pre}/attn/v"];
            }
            else
                gqaInputs = [qkv, "", ""];
            var attn = $"{pre}/attn/GroupQueryAttention/output_0";
            g.Node("GroupQueryAttention",
                [.. gqaInputs, $"past_key_values.{i}.key", $"past_key_values.{i}.value", "seqlens_k", "total_seq_len", "cos_cache", "sin_cache"],
                [attn, $"present.{i}.key", $"present.{i}.value"], "com.microsoft",
                new Dictionary<string, object>
                {
                    ["num_heads"] = (long)H, ["kv_num_heads"] = (long)KV, ["scale"] = 1f / MathF.Sqrt(D), ["local_window_size"] = -1L,
                    ["softcap"] = 0f, ["do_rotary"] = 1L, ["rotary_interleaved"] = 0L,
                }, $"{pre}/attn/GroupQueryAttention");

            var o = $"{pre}/attn/o_proj/MatMul/output_0";
            Linear($"model.layers.{i}.attn.o_proj.MatMul", attn, o, L.Wo, C, qd);
            if (L.Bo >= 0)
            {
                g.Initializer($"model.layers.{i}.attn.o_proj.Add.bias", p.AsSpan((int)L.Bo, C), C);
                g.Node("Add", [o, $"model.layers.{i}.attn.o_proj.Add.bias"], [$"{pre}/attn/o_proj/Add/output_0"], name: $"{pre}/attn/o_proj/Add");
                o = $"{pre}/attn/o_proj/Add/output_0";
            }

            var norm2 = $"{pre}/post_attention_layernorm/output_0";
            var sum2 = $"{pre}/post_attention_layernorm/output_3";
            g.Initializer($"model.layers.{i}.post_attention_layernorm.weight", p.AsSpan((int)L.PostNorm, C), C);
            g.Node("SkipSimplifiedLayerNormalization", [residual, o, $"model.layers.{i}.post_attention_layernorm.weight"], [norm2, "", "", sum2], "com.microsoft",
                new Dictionary<string, object> { ["epsilon"] = eps }, $"{pre}/post_attention_layernorm/SkipLayerNorm");
            residual = sum2;

            Linear($"model.layers.{i}.mlp.gate_proj.MatMul", norm2, $"{pre}/mlp/gate_proj/MatMul/output_0", L.WGate, F, C);
            Linear($"model.layers.{i}.mlp.up_proj.MatMul", norm2, $"{pre}/mlp/up_proj/MatMul/output_0", L.WUp, F, C);
            g.Node("Sigmoid", [$"{pre}/mlp/gate_proj/MatMul/output_0"], [$"{pre}/mlp/act_fn/Sigmoid/output_0"], name: $"{pre}/mlp/act_fn/Sigmoid");
            g.Node("Mul", [$"{pre}/mlp/gate_proj/MatMul/output_0", $"{pre}/mlp/act_fn/Sigmoid/output_0"], [$"{pre}/mlp/act_fn/Mul/output_0"], name: $"{pre}/mlp/act_fn/Mul");
            g.Node("Mul", [$"{pre}/mlp/act_fn/Mul/output_0", $"{pre}/mlp/up_proj/MatMul/output_0"], [$"{pre}/mlp/Mul/output_0"], name: $"{pre}/mlp/Mul");
            Linear($"model.layers.{i}.mlp.down_proj.MatMul", $"{pre}/mlp/Mul/output_0", $"{pre}/mlp/down_proj/MatMul/output_0", L.WDown, C, F);
            skip = $"{pre}/mlp/down_proj/MatMul/output_0";
        }

        var final = $"/model/layers.{c.NumLayers}/final_norm_layernorm";
        g.Initializer($"model.layers.{c.NumLayers}.final_norm_layernorm.weight", p.AsSpan((int)layout.FinalNorm, C), C);
        g.Node("SkipSimplifiedLayerNormalization", [residual, skip, $"model.layers.{c.NumLayers}.final_norm_layernorm.weight"], [$"{final}/output_0"], "com.microsoft",
            new Dictionary<string, object> { ["epsilon"] = eps }, $"{final}/SkipLayerNorm");
        LinearFrom(p, layout.LmHead, "lm_head.MatMul", $"{final}/output_0", "logits", V, C, options.HeadBits);
        if (options.SamplingHead)
            Aspo.Onnx.SamplingHead.Append(g, "logits", V);
    }
}
