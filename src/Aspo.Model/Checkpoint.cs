using Aspo.Native.Files;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aspo.Model;

/// <summary>
/// A Hugging Face model folder: <c>config.json</c> plus <c>model.safetensors</c>, or shards listed in
/// <c>model.safetensors.index.json</c>. Loading fills one fp32 parameter slab and checks that the tensors are
/// exactly the ones the config implies (names and shapes); saving writes fp32 safetensors Hugging Face accepts.
/// </summary>
public static class Checkpoint
{
    public const string ConfigFile = "config.json";
    public const string WeightsFile = "model.safetensors";
    public const string IndexFile = "model.safetensors.index.json";

    /// <summary>Loads the config and weights of the model in <paramref name="folder"/>.</summary>
    /// <exception cref="ModelFormatException">missing files, bad config, missing/extra/misshaped tensors, truncated files</exception>
    public static (ModelConfig Config, float[] Parameters) Load(string folder)
    {
        if (!Directory.Exists(folder))
            throw new ModelFormatException($"{folder}: model folder does not exist");
        var config = ModelConfig.Load(Path.Combine(folder, ConfigFile));
        var layout = new ParameterLayout(config);
        var parameters = new float[layout.TotalCount];

        var readers = OpenWeights(folder);
        try
        {
            var byTensor = new Dictionary<string, SafeTensorsReader>(StringComparer.Ordinal);
            foreach (var reader in readers)
                foreach (var info in reader.Tensors)
                    if (!byTensor.TryAdd(info.Name, reader))
                        throw new ModelFormatException($"{reader.Path}: tensor \"{info.Name}\" also appears in {byTensor[info.Name].Path}");

            var extra = byTensor.Keys.Where(name => !layout.Contains(name) && !Ignorable(name, config)).OrderBy(x => x, StringComparer.Ordinal).ToArray();
            if (extra.Length > 0)
                throw new ModelFormatException($"{folder}: tensors not part of a {config.Family} model with this config.json: {string.Join(", ", extra.Take(5))}{(extra.Length > 5 ? $" (and {extra.Length - 5} more)" : "")}");
            foreach (var tensor in layout.Tensors)
            {
                if (!byTensor.TryGetValue(tensor.Name, out var reader))
                    throw new ModelFormatException($"{folder}: tensor \"{tensor.Name}\" [{string.Join(", ", tensor.Shape)}] is missing from the weights");
                var values = parameters.AsSpan((int)tensor.Offset, (int)tensor.Count);
                reader.ReadFloat32(tensor.Name, tensor.Shape, values);
                if (Finite.FirstNonFinite(values) is { } bad)
                    throw new ModelFormatException($"{reader.Path}: tensor \"{tensor.Name}\" holds {values[bad]} at element {bad}: the weights are not finite " +
                        "(a diverged run writes such checkpoints; resume from an earlier one, with a lower optimizer.lr or a grad_clip)");
            }
        }
        finally
        {
            foreach (var r in readers)
                r.Dispose();
        }
        return (config, parameters);
    }

    /// <summary>Writes config.json and model.safetensors (fp32) into <paramref name="folder"/>, each atomically.</summary>
    public static void Save(string folder, ModelConfig config, float[] parameters)
    {
        var layout = new ParameterLayout(config);
        if (parameters.LongLength != layout.TotalCount)
            throw new ArgumentException($"parameter slab has {parameters.LongLength} floats, the layout needs {layout.TotalCount}");
        Directory.CreateDirectory(folder);
        var tensors = layout.Tensors.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)parameters.AsMemory((int)t.Offset, (int)t.Count))).ToArray();
        SafeTensorsWriter.WriteFloat32(Path.Combine(folder, WeightsFile), tensors);
        AtomicFile.WriteAllText(Path.Combine(folder, ConfigFile), config.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    // tied checkpoints may still carry lm_head.weight; old Llama checkpoints carry the RoPE buffer
    private static bool Ignorable(string name, ModelConfig config) =>
        (config.TieWordEmbeddings && name == "lm_head.weight") || name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal);

    private static List<SafeTensorsReader> OpenWeights(string folder)
    {
        var single = Path.Combine(folder, WeightsFile);
        if (File.Exists(single))
            return [new SafeTensorsReader(single)];
        var index = Path.Combine(folder, IndexFile);
        if (!File.Exists(index))
            throw new ModelFormatException($"{folder}: neither {WeightsFile} nor {IndexFile} exists");
        JsonObject map;
        try
        {
            map = (JsonNode.Parse(File.ReadAllText(index)) as JsonObject)?["weight_map"] as JsonObject
                ?? throw new ModelFormatException($"{index}: expected an object with a \"weight_map\" object");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException($"{index}: not valid JSON ({e.Message})");
        }
        var readers = new List<SafeTensorsReader>();
        try
        {
            foreach (var shard in map.Select(kv => kv.Value!.GetValue<string>()).Distinct(StringComparer.Ordinal))
            {
                if (shard.Contains('/') || shard.Contains(".."))
                    throw new ModelFormatException($"{index}: shard name \"{shard}\" must be a file in the model folder");
                readers.Add(new SafeTensorsReader(Path.Combine(folder, shard)));
            }
            foreach (var (name, shard) in map)
                if (!readers.Single(r => Path.GetFileName(r.Path) == shard!.GetValue<string>()).Contains(name))
                    throw new ModelFormatException($"{index}: tensor \"{name}\" is mapped to {shard} but that shard does not contain it");
        }
        catch
        {
            foreach (var r in readers)
                r.Dispose();
            throw;
        }
        return readers;
    }
}
