using Aspo.Model;
using Aspo.Native.Blas;

namespace Aspo.Onnx.Tests;

/// <summary>Random small decoders of each family (head_dim a multiple of 16, as GQA's fused rotary needs), exported once per family.</summary>
internal static class TestModels
{
    private static readonly Dictionary<string, (ModelConfig, float[], string)> s_exported = new();
    private static readonly Lock s_lock = new();

    public static (ModelConfig Config, float[] Parameters) Random(string family, int seed = 7)
    {
        var config = family switch
        {
            "qwen2" => new ModelConfig { Family = ModelFamily.Qwen2, HiddenSize = 64, IntermediateSize = 96, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 16, VocabSize = 97, TieWordEmbeddings = true, RopeTheta = 1e6, MaxPositionEmbeddings = 128, EosTokenIds = [96] },
            "llama" => new ModelConfig { Family = ModelFamily.Llama, HiddenSize = 48, IntermediateSize = 80, NumLayers = 2, NumHeads = 3, NumKvHeads = 1, HeadDim = 32, VocabSize = 89, AttentionBias = true, RmsNormEps = 1e-5, RopeTheta = 500000, RopeScaling = new Llama3RopeScaling(8, 1, 4, 64), MaxPositionEmbeddings = 128, EosTokenIds = [88] },
            "qwen3" => new ModelConfig { Family = ModelFamily.Qwen3, HiddenSize = 32, IntermediateSize = 64, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 16, VocabSize = 101, RopeTheta = 1e6, MaxPositionEmbeddings = 128, EosTokenIds = [100] },
            _ => throw new ArgumentException(family),
        };
        var layout = new ParameterLayout(config);
        var p = new float[layout.TotalCount];
        var rng = new System.Random(seed);
        foreach (var t in layout.Tensors)
        {
            var norm = t.Name.EndsWith("norm.weight", StringComparison.Ordinal);
            var bias = t.Name.EndsWith(".bias", StringComparison.Ordinal);
            for (var i = 0; i < t.Count; i++)
                p[t.Offset + i] = (float)(norm ? 1 + 0.1 * (rng.NextDouble() - 0.5) : (rng.NextDouble() - 0.5) * (bias ? 0.2 : 0.6));
        }
        return (config, p);
    }

    /// <summary>(config, parameters, exported folder) for a family, exported once per test run.</summary>
    public static (ModelConfig Config, float[] Parameters, string Folder) Exported(string family)
    {
        lock (s_lock)
        {
            if (s_exported.TryGetValue(family, out var e))
                return e;
            var (config, p) = Random(family);
            var folder = Path.Combine(Path.GetTempPath(), $"aspo-export-{family}-{Environment.ProcessId}");
            DecoderExporter.Export(config, p, folder, tokenizerFolder: null);
            return s_exported[family] = (config, p, folder);
        }
    }

    /// <summary>
    /// A random model of the family with the byte-level tokenizer's vocabulary (259 ids) exported with that tokenizer,
    /// fp32 or int4 — what ONNX Runtime GenAI needs to build token sequences (its Sequences come from a tokenizer).
    /// </summary>
    public static (ModelConfig Config, float[] Parameters, string Folder) ExportedWithTokenizer(string family, bool int4 = false)
    {
        var key = $"{family}-tokenizer{(int4 ? "-int4" : "")}";
        lock (s_lock)
        {
            if (s_exported.TryGetValue(key, out var e))
                return e;
            var (small, _) = Random(family);
            var config = small with { VocabSize = Aspo.Data.Tokenization.ByteLevelTokenizerFiles.VocabSize, EosTokenIds = [Aspo.Data.Tokenization.ByteLevelTokenizerFiles.SpecialId("<|im_end|>")] };
            var p = ModelInit.Random(config, seed: 11, std: 0.3);
            var tokenizer = Path.Combine(Path.GetTempPath(), $"aspo-bytelevel-{Environment.ProcessId}");
            Aspo.Data.Tokenization.ByteLevelTokenizerFiles.Write(tokenizer);
            var folder = Path.Combine(Path.GetTempPath(), $"aspo-export-{key}-{Environment.ProcessId}");
            DecoderExporter.Export(config, p, folder, tokenizer, new ExportOptions { Int4 = int4, Int4AccuracyLevel = 1 });
            return s_exported[key] = (config, p, folder);
        }
    }

    public static Decoder Learner(ModelConfig config, float[] parameters) => new(config, (float[])parameters.Clone(), new OneDnnGemm());
}
