using System.Text.Json;

namespace Aspo.Algorithms.Tests;

/// <summary>The PyTorch golden fixture written by tools/reference/policy_losses.py.</summary>
internal sealed class Fixture
{
    private static readonly Lazy<Fixture> s_instance = new(() => new Fixture(
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "policy_losses.json"))).RootElement));

    public static Fixture Instance => s_instance.Value;

    private Fixture(JsonElement root)
    {
        Root = root;
        Offsets = Ints(root.GetProperty("sequence_offsets"));
        Mask = Floats(root.GetProperty("mask"));
        LogProbs = Floats(root.GetProperty("log_probs"));
        OldLogProbs = Floats(root.GetProperty("old_log_probs"));
        Advantages = Floats(root.GetProperty("advantages"));
        Entropies = Floats(root.GetProperty("entropies"));
        RolloutLogProbs = Floats(root.GetProperty("rollout_log_probs"));
        RefLogProbs = Floats(root.GetProperty("ref_log_probs"));
    }

    public JsonElement Root { get; }
    public int[] Offsets { get; }
    public float[] Mask { get; }
    public float[] LogProbs { get; }
    public float[] OldLogProbs { get; }
    public float[] Advantages { get; }
    public float[] Entropies { get; }
    public float[] RolloutLogProbs { get; }
    public float[] RefLogProbs { get; }

    public TokenBatch Batch() => new()
    {
        LogProbs = LogProbs, OldLogProbs = OldLogProbs, Advantages = Advantages, Mask = Mask, SequenceOffsets = Offsets,
        Entropies = Entropies, RolloutLogProbs = RolloutLogProbs, RefLogProbs = RefLogProbs,
    };

    public static float[] Floats(JsonElement array) => array.EnumerateArray().Select(e => (float)e.GetDouble()).ToArray();
    public static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();
    public static long[] Longs(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt64()).ToArray();

    /// <summary>|actual − expected| ≤ 1e-6·max(|actual|, |expected|) (+1e-12 so that zeros compare equal).</summary>
    public static bool Close(double expected, double actual, double relative = 1e-6) =>
        Math.Abs(expected - actual) <= relative * Math.Max(Math.Abs(expected), Math.Abs(actual)) + 1e-12;
}
