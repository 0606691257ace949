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

    /// <summary>The fixture's sequences packed for the learner seam.</summary>
    public PackedSequences Batch => new(Tokens, Offsets, Starts, ScoredOffsets());

    private int[] ScoredOffsets()
    {
        var scored = new int[Starts.Length + 1];
        for (var i = 0; i < Starts.Length; i++)
            scored[i + 1] = scored[i] + Offsets[i + 1] - Offsets[i] - Starts[i];
        return scored;
    }

    public float[] Floats(string name) => Expected.GetProperty(name).EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();

    public Decoder Load(IGemm? gemm = null)
    {
        var (config, parameters) = Checkpoint.Load(Folder);
        return new Decoder(config, parameters, gemm ?? new OneDnnGemm());
    }

    /// <summary>Per tensor max |Δ| and max |Δ| / max |expected| (llm.c-style report); fails when a relative error exceeds the bound.</summary>
    public static SlabComparison CompareSlabs(ParameterLayout layout, float[] expected, float[] actual, double relativeBound)
    {
        var lines = new List<string>();
        var passed = true;
        var worst = 0.0;
        foreach (var t in layout.Tensors)
        {
            double maxDiff = 0, maxRef = 0;
            for (var i = t.Offset; i < t.Offset + t.Count; i++)
            {
                maxDiff = Math.Max(maxDiff, Math.Abs(expected[i] - actual[i]));
                maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
            }
            var relative = maxDiff / Math.Max(maxRef, 1e-12);
            worst = Math.Max(worst, relative);
            lines.Add($"{t.Name}: max |Δ| {maxDiff:G3}, rel {relative:G3}");
            passed &= relative <= relativeBound;
        }
        return new SlabComparison(passed, worst, string.Join("\n", lines));
    }

    /// <summary>
    /// The parameters whose motion under Adam two implementations can be expected to agree on: Adam normalises each
    /// element's gradient, so an element whose true gradient is ~0 (k-projection biases on low RoPE frequencies: softmax
    /// is nearly invariant to them) moves by ±lr on float noise in every implementation. Elements whose first gradient is
    /// non-zero but below 1e-3 of their tensor's largest are left out (asserted to be at most 10 %); exact zeros
    /// (unused embedding rows) are deterministic and kept.
    /// </summary>
    public static bool[] ComparableUnderAdam(ParameterLayout layout, float[] firstGradients, double maxLeftOut = 0.1)
    {
        var compared = new bool[firstGradients.Length];
        foreach (var t in layout.Tensors)
        {
            var g = firstGradients.AsSpan((int)t.Offset, (int)t.Count);
            var max = 0f;
            foreach (var x in g)
                max = Math.Max(max, Math.Abs(x));
            for (var i = 0; i < g.Length; i++)
                compared[t.Offset + i] = g[i] == 0 || Math.Abs(g[i]) >= 1e-3 * max;
        }
        var left = compared.Count(c => !c);
        var byTensor = layout.Tensors.Select(t => (t.Name, Left: Enumerable.Range((int)t.Offset, (int)t.Count).Count(i => !compared[i])))
            .Where(x => x.Left > 0).Select(x => $"{x.Name} {x.Left}");
        Xunit.Assert.True(left <= maxLeftOut * compared.Length, $"{left} of {compared.Length} parameters left out: {string.Join(", ", byTensor)}");
        return compared;
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

/// <summary>The outcome of <see cref="ModelFixture.CompareSlabs"/>: pass/fail, the worst relative error, the per-tensor report.</summary>
internal sealed record SlabComparison(bool Passed, double WorstRelative, string Report)
{
    public override string ToString() => Report;
}
