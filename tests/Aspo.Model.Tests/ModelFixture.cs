using System.Text.Json;
using Aspo.Native.Blas;

namespace Aspo.Model.Tests;

/// <summary>One family's PyTorch fixture (tools/reference/decoder.py): the model folder and expected.json.</summary>
internal sealed class ModelFixture
{
    public ModelFixture(string family)
    {
        Folder = Path.Combine(AppContext.BaseDirectory, "Fixtures", family);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "expected.json"))).RootElement;
        Expected = json;
        var sequences = json.GetProperty("sequences").EnumerateArray().Select(s => s.EnumerateArray().Select(t => t.GetInt32()).ToArray()).ToArray();
        Tokens = sequences.SelectMany(s => s).ToArray();
        Offsets = new int[sequences.Length + 1];
        for (var i = 0; i < sequences.Length; i++)
            Offsets[i + 1] = Offsets[i] + sequences[i].Length;
        Starts = json.GetProperty("response_starts").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    public string Folder { get; }
    public JsonElement Expected { get; }
    public int[] Tokens { get; }
    public int[] Offsets { get; }
    public int[] Starts { get; }

    public float[] Floats(string name) => Expected.GetProperty(name).EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    public Decoder Load(IGemm? gemm = null)
    {
        var (config, parameters) = Checkpoint.Load(Folder);
        return new Decoder(config, parameters, gemm ?? new OneDnnGemm());
    }

    /// <summary>Every tensor of <paramref name="file"/> (grads, adamw5) as a slab in the model's layout.</summary>
    public float[] ReadSlab(string file, ParameterLayout layout)
    {
        var slab = new float[layout.TotalCount];
        using var reader = new SafeTensorsReader(Path.Combine(Folder, file));
        foreach (var t in layout.Tensors)
            if (!(layout.Config.TieWordEmbeddings && t.Name == "lm_head.weight"))
                reader.ReadFloat32(t.Name, t.Shape, slab.AsSpan((int)t.Offset, (int)t.Count));
        return slab;
    }
}
