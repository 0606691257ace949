using Aspo.Model;

namespace Aspo.Tests.Shared;

/// <summary>
/// A tiny random Qwen2 (hidden 32, GQA 2/1 heads of 16) over the real Qwen3 tokenizer's vocabulary, written as an HF
/// folder with the tokenizer files: what the pipeline, reward and CLI tests run end to end.
/// </summary>
public static class TinyQwen
{
    public static ModelConfig Config(int layers = 1) => new()
    {
        Family = ModelFamily.Qwen2, HiddenSize = 32, IntermediateSize = 48, NumLayers = layers, NumHeads = 2, NumKvHeads = 1, HeadDim = 16,
        VocabSize = 151936, TieWordEmbeddings = true, MaxPositionEmbeddings = 512, EosTokenIds = [151645],
    };

    /// <summary>Parameters uniform in ±<paramref name="amplitude"/>/2 from <paramref name="seed"/>.</summary>
    public static float[] Parameters(ModelConfig config, int seed, double amplitude = 0.2)
    {
        var rng = new Random(seed);
        var p = new float[new ParameterLayout(config).TotalCount];
        for (var i = 0; i < p.Length; i++)
            p[i] = (float)((rng.NextDouble() - 0.5) * amplitude);
        return p;
    }

    /// <summary>Writes the HF folder (config.json, model.safetensors, tokenizer files) and returns what it holds.</summary>
    public static (ModelConfig Config, float[] Parameters) SaveHfFolder(string folder, int seed, int layers = 1, double amplitude = 0.2)
    {
        var config = Config(layers);
        var p = Parameters(config, seed, amplitude);
        Checkpoint.Save(folder, config, p);
        foreach (var f in new[] { "tokenizer.json", "tokenizer_config.json" })
            File.Copy(Path.Combine(TestRepository.Qwen3TokenizerFolder, f), Path.Combine(folder, f), overwrite: true);
        return (config, p);
    }
}
