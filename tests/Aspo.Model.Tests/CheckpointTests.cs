using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace Aspo.Model.Tests;

/// <summary>Loading a model folder: every way it can be wrong gives one ModelFormatException naming the file and tensor/field.</summary>
public sealed class CheckpointTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string CopyFixture(string family)
    {
        var folder = Path.Combine(_dir, family);
        Directory.CreateDirectory(folder);
        foreach (var file in new[] { "config.json", "model.safetensors" })
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", family, file), Path.Combine(folder, file));
        return folder;
    }

    [Fact]
    public void Save_then_load_round_trips_exactly()
    {
        var (config, parameters) = Checkpoint.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "qwen3"));
        var folder = Path.Combine(_dir, "saved");
        Checkpoint.Save(folder, config, parameters);
        var (config2, parameters2) = Checkpoint.Load(folder);
        Assert.Equal(config with { EosTokenIds = [] }, config2 with { EosTokenIds = [] });
        Assert.Equal(parameters, parameters2);
        // the header is 8-byte aligned and declares the Hugging Face format
        using var reader = new SafeTensorsReader(Path.Combine(folder, "model.safetensors"));
        Assert.Equal("pt", reader.Metadata["format"]);
        Assert.All(reader.Tensors, t => Assert.Equal(0, t.Begin % 4));
        Assert.DoesNotContain(Directory.GetFiles(folder), f => f.Contains(".tmp"));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.999)]
    public void Truncated_weights_name_the_file(double keep)
    {
        var folder = CopyFixture("qwen2");
        var path = Path.Combine(folder, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keep)]);
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(folder));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Header_overrunning_the_file_is_reported()
    {
        var path = Path.Combine(_dir, "overrun.safetensors");
        var bytes = new byte[64];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, 1000);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelFormatException>(() => new SafeTensorsReader(path));
        Assert.Contains("header of 1000 bytes overruns the file (64 bytes)", e.Message);
    }

    [Fact]
    public void Offsets_that_do_not_tile_the_buffer_are_reported()
    {
        var path = Path.Combine(_dir, "holes.safetensors");
        var header = Encoding.UTF8.GetBytes("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}");
        var bytes = new byte[8 + header.Length + 12];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ModelFormatException>(() => new SafeTensorsReader(path));
        Assert.Contains("tensor \"a\" starts at byte 4", e.Message);
    }

    [Fact]
    public void Missing_extra_and_misshaped_tensors_are_named()
    {
        var (config, parameters) = Checkpoint.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama"));
        var layout = new ParameterLayout(config);
        var folder = Path.Combine(_dir, "broken");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama", "config.json"), Path.Combine(folder, "config.json"));

        void Write(IEnumerable<(string, long[], ReadOnlyMemory<float>)> tensors) =>
            SafeTensorsWriter.WriteFloat32(Path.Combine(folder, "model.safetensors"), tensors.ToArray());
        var all = layout.Tensors.Select(t => (t.Name, t.Shape, (ReadOnlyMemory<float>)parameters.AsMemory((int)t.Offset, (int)t.Count))).ToList();

        Write(all.Where(t => t.Name != "model.layers.1.mlp.up_proj.weight"));
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(folder));
        Assert.Contains("tensor \"model.layers.1.mlp.up_proj.weight\" [72, 40] is missing", e.Message);

        Write(all.Append(("model.layers.9.mlp.up_proj.weight", [2], new float[2])));
        e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(folder));
        Assert.Contains("tensors not part of a Llama model with this config.json: model.layers.9.mlp.up_proj.weight", e.Message);

        Write(all.Select(t => t.Name == "model.norm.weight" ? (t.Name, new long[] { 4, 10 }, t.Item3) : t));
        e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(folder));
        Assert.Contains("tensor \"model.norm.weight\" has shape [4, 10], expected [40]", e.Message);
    }

    [Theory]
    [InlineData("model_type", "\"gpt2\"", "model_type \"gpt2\" is not supported")]
    [InlineData("hidden_size", "\"48\"", "field \"hidden_size\" must be an integer")]
    [InlineData("num_key_value_heads", "4", "num_attention_heads 6 must be a multiple of num_key_value_heads 4")]
    [InlineData("hidden_act", "\"gelu\"", "hidden_act \"gelu\" is not supported")]
    public void Bad_config_fields_are_named(string field, string value, string expected)
    {
        var folder = CopyFixture("qwen2");
        var path = Path.Combine(folder, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json[field] = JsonNode.Parse(value);
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(folder));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Config_and_weights_that_disagree_name_the_tensor()
    {
        var folder = CopyFixture("qwen2");
        var path = Path.Combine(folder, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["intermediate_size"] = 96;
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<ModelFormatException>(() => Checkpoint.Load(folder));
        Assert.Contains("tensor \"model.layers.0.mlp.gate_proj.weight\" has shape [80, 48], expected [96, 48]", e.Message);
    }

    [Fact]
    public void Sharded_checkpoints_load_like_single_files()
    {
        var source = Path.Combine(AppContext.BaseDirectory, "Fixtures", "qwen3");
        var (config, parameters) = Checkpoint.Load(source);
        var layout = new ParameterLayout(config);
        var folder = Path.Combine(_dir, "sharded");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(folder, "config.json"));
        var map = new JsonObject();
        var halves = layout.Tensors.Select((t, i) => (t, shard: i % 2 == 0 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors")).GroupBy(x => x.shard);
        foreach (var group in halves)
        {
            SafeTensorsWriter.WriteFloat32(Path.Combine(folder, group.Key),
                group.Select(x => (x.t.Name, x.t.Shape, (ReadOnlyMemory<float>)parameters.AsMemory((int)x.t.Offset, (int)x.t.Count))).ToArray());
            foreach (var (t, shard) in group)
                map[t.Name] = shard;
        }
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = map }.ToJsonString());
        Assert.Equal(parameters, Checkpoint.Load(folder).Parameters);
    }

    [Fact]
    public void Bf16_and_f16_weights_are_widened_to_fp32()
    {
        var path = Path.Combine(_dir, "mixed.safetensors");
        var header = Encoding.UTF8.GetBytes("{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]}}");
        var bytes = new byte[8 + header.Length + 8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, header.Length);
        header.CopyTo(bytes, 8);
        var data = bytes.AsSpan(8 + header.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(data, 0x3FC0);          // bf16 1.5
        BinaryPrimitives.WriteUInt16LittleEndian(data[2..], 0xC040);     // bf16 -3
        BinaryPrimitives.WriteUInt16LittleEndian(data[4..], BitConverter.HalfToUInt16Bits((Half)0.25f));
        BinaryPrimitives.WriteUInt16LittleEndian(data[6..], BitConverter.HalfToUInt16Bits((Half)(-7f)));
        File.WriteAllBytes(path, bytes);
        using var reader = new SafeTensorsReader(path);
        var b = new float[2];
        var h = new float[2];
        reader.ReadFloat32("b", [2], b);
        reader.ReadFloat32("h", [2], h);
        Assert.Equal([1.5f, -3f], b);
        Assert.Equal([0.25f, -7f], h);
    }

    [Fact]
    public void Missing_folder_and_missing_weights_are_reported()
    {
        Assert.Contains("model folder does not exist", Assert.Throws<ModelFormatException>(() => Checkpoint.Load(Path.Combine(_dir, "nope"))).Message);
        var folder = CopyFixture("qwen2");
        File.Delete(Path.Combine(folder, "model.safetensors"));
        Assert.Contains("neither model.safetensors nor model.safetensors.index.json exists", Assert.Throws<ModelFormatException>(() => Checkpoint.Load(folder)).Message);
    }
}
