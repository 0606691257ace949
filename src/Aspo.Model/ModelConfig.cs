using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aspo.Model;

/// <summary>
/// A decoder's shape and options, as in a Hugging Face <c>config.json</c> (Llama, Qwen2, Qwen3).
/// Shape letters used across the model code: C = hidden size, H = query heads, KV = key/value heads,
/// D = head dim, F = intermediate size, V = vocabulary, L = layers.
/// </summary>
public sealed record ModelConfig
{
    public required ModelFamily Family { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int VocabSize { get; init; }
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000;
    public Llama3RopeScaling? RopeScaling { get; init; }
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Bias on q/k/v/o projections (Llama, Qwen3 <c>attention_bias</c>); Qwen2 always has q/k/v bias and never o bias.</summary>
    public bool AttentionBias { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 32768;
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    public bool HasQkvBias => Family == ModelFamily.Qwen2 || AttentionBias;
    public bool HasOutputBias => Family != ModelFamily.Qwen2 && AttentionBias;
    public bool HasQkNorm => Family == ModelFamily.Qwen3;

    /// <summary>Reads and validates <paramref name="path"/> (a <c>config.json</c>).</summary>
    /// <exception cref="ModelFormatException">missing or wrong field, unsupported model type or option</exception>
    public static ModelConfig Load(string path)
    {
        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new ModelFormatException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{path}: not valid JSON ({e.Message})");
        }
        catch (FileNotFoundException)
        {
            throw new ModelFormatException($"{path}: config.json not found");
        }
        return Parse(json, path);
    }

    public static ModelConfig Parse(JsonObject json, string source)
    {
        var type = Str(json, "model_type", source);
        var family = type switch
        {
            "llama" => ModelFamily.Llama,
            "qwen2" => ModelFamily.Qwen2,
            "qwen3" => ModelFamily.Qwen3,
            _ => throw new ModelFormatException($"{source}: model_type \"{type}\" is not supported; supported: llama, qwen2, qwen3"),
        };
        var hidden = Int(json, "hidden_size", source);
        var heads = Int(json, "num_attention_heads", source);
        var kv = OptInt(json, "num_key_value_heads", source) ?? heads;
        var headDim = OptInt(json, "head_dim", source) ?? (hidden % heads == 0 ? hidden / heads
            : throw new ModelFormatException($"{source}: hidden_size {hidden} is not a multiple of num_attention_heads {heads} and head_dim is absent"));
        if (kv <= 0 || heads % kv != 0)
            throw new ModelFormatException($"{source}: num_attention_heads {heads} must be a multiple of num_key_value_heads {kv}");
        if (headDim % 2 != 0)
            throw new ModelFormatException($"{source}: head_dim {headDim} must be even for rotary embeddings");
        if (json["mlp_bias"]?.GetValue<bool>() == true)
            throw new ModelFormatException($"{source}: mlp_bias = true is not supported");
        if (json["hidden_act"] is JsonNode act && act.GetValue<string>() != "silu")
            throw new ModelFormatException($"{source}: hidden_act \"{act.GetValue<string>()}\" is not supported; expected \"silu\"");

        var ropeParameters = json["rope_parameters"] as JsonObject; // transformers v5 layout
        var theta = OptDouble(json, "rope_theta", source) ?? (ropeParameters is null ? null : OptDouble(ropeParameters, "rope_theta", source)) ?? 10000;
        var scalingNode = json["rope_scaling"] as JsonObject ?? ropeParameters;
        Llama3RopeScaling? scaling = null;
        if (scalingNode is not null)
        {
            var ropeType = (scalingNode["rope_type"] ?? scalingNode["type"])?.GetValue<string>() ?? "default";
            if (ropeType == "llama3")
                scaling = new Llama3RopeScaling(
                    OptDouble(scalingNode, "factor", source) ?? throw new ModelFormatException($"{source}: rope_scaling.factor missing"),
                    OptDouble(scalingNode, "low_freq_factor", source) ?? 1,
                    OptDouble(scalingNode, "high_freq_factor", source) ?? 4,
                    OptInt(scalingNode, "original_max_position_embeddings", source) ?? 8192);
            else if (ropeType != "default")
                throw new ModelFormatException($"{source}: rope_scaling type \"{ropeType}\" is not supported; supported: default, llama3");
        }

        var eos = json["eos_token_id"] switch
        {
            JsonArray a => a.Select(x => x!.GetValue<int>()).ToArray(),
            JsonValue v => [v.GetValue<int>()],
            _ => Array.Empty<int>(),
        };
        var config = new ModelConfig
        {
            Family = family,
            HiddenSize = hidden,
            IntermediateSize = Int(json, "intermediate_size", source),
            NumLayers = Int(json, "num_hidden_layers", source),
            NumHeads = heads,
            NumKvHeads = kv,
            HeadDim = headDim,
            VocabSize = Int(json, "vocab_size", source),
            RmsNormEps = OptDouble(json, "rms_norm_eps", source) ?? 1e-6,
            RopeTheta = theta,
            RopeScaling = scaling,
            TieWordEmbeddings = json["tie_word_embeddings"]?.GetValue<bool>() ?? false,
            AttentionBias = json["attention_bias"]?.GetValue<bool>() ?? false,
            MaxPositionEmbeddings = OptInt(json, "max_position_embeddings", source) ?? 32768,
            BosTokenId = json["bos_token_id"] is JsonValue b ? b.GetValue<int>() : null,
            EosTokenIds = eos,
        };
        return config;
    }

    /// <summary>The config as Hugging Face writes it (enough for transformers to load the checkpoint).</summary>
    public JsonObject ToJson()
    {
        var (type, arch) = Family switch
        {
            ModelFamily.Llama => ("llama", "LlamaForCausalLM"),
            ModelFamily.Qwen2 => ("qwen2", "Qwen2ForCausalLM"),
            _ => ("qwen3", "Qwen3ForCausalLM"),
        };
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(arch),
            ["model_type"] = type,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumLayers,
            ["num_attention_heads"] = NumHeads,
            ["num_key_value_heads"] = NumKvHeads,
            ["head_dim"] = HeadDim,
            ["vocab_size"] = VocabSize,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["attention_bias"] = AttentionBias,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["hidden_act"] = "silu",
            ["torch_dtype"] = "float32",
        };
        if (RopeScaling is { } s)
            json["rope_scaling"] = new JsonObject
            {
                ["rope_type"] = "llama3", ["factor"] = s.Factor, ["low_freq_factor"] = s.LowFreqFactor,
                ["high_freq_factor"] = s.HighFreqFactor, ["original_max_position_embeddings"] = s.OriginalMaxPositionEmbeddings,
            };
        if (BosTokenId is { } bos)
            json["bos_token_id"] = bos;
        if (EosTokenIds.Count == 1)
            json["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1)
            json["eos_token_id"] = new JsonArray(EosTokenIds.Select(e => (JsonNode)e).ToArray());
        return json;
    }

    private static string Str(JsonObject o, string key, string source) =>
        o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new ModelFormatException($"{source}: field \"{key}\" missing or not a string");

    private static int Int(JsonObject o, string key, string source) =>
        OptInt(o, key, source) ?? throw new ModelFormatException($"{source}: field \"{key}\" is missing");

    private static int? OptInt(JsonObject o, string key, string source)
    {
        if (o[key] is null)
            return null;
        if (o[key] is JsonValue v && v.TryGetValue<int>(out var i))
            return i > 0 ? i : throw new ModelFormatException($"{source}: field \"{key}\" must be positive, got {i}");
        throw new ModelFormatException($"{source}: field \"{key}\" must be an integer, got {o[key]!.ToJsonString()}");
    }

    private static double? OptDouble(JsonObject o, string key, string source)
    {
        if (o[key] is null)
            return null;
        if (o[key] is JsonValue v && v.TryGetValue<double>(out var d))
            return d;
        if (o[key] is JsonValue s && s.TryGetValue<string>(out var text) && double.TryParse(text, CultureInfo.InvariantCulture, out var parsed))
            return parsed;
        throw new ModelFormatException($"{source}: field \"{key}\" must be a number, got {o[key]!.ToJsonString()}");
    }
}
