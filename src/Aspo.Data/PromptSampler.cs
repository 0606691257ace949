using System.Text.Json.Nodes;
using DuckDB.NET.Data;

namespace Aspo.Data;

/// <summary>
/// Deterministic epochs over a dataset of N prompts: epoch e visits a permutation fixed by (seed, e) (SplitMix64-driven
/// Fisher–Yates, stable across .NET versions); batches continue across epoch boundaries; the state can be saved and
/// restored so a resumed run draws exactly the prompts an uninterrupted one would.
/// </summary>
public sealed class PromptSampler
{
    private readonly int _count;
    private readonly ulong _seed;
    private int[] _order;

    public PromptSampler(int count, ulong seed, SamplerState? state = null)
    {
        if (count <= 0)
            throw new ArgumentException("the dataset has no prompts");
        _count = count;
        _seed = seed;
        State = state ?? new SamplerState(0, 0);
        if (State.Position < 0 || State.Position > count || State.Epoch < 0)
            throw new ArgumentException($"sampler state {State} does not fit a dataset of {count} prompts");
        _order = Permutation(count, seed, State.Epoch);
    }

    public SamplerState State { get; private set; }

    /// <summary>The next <paramref name="batchSize"/> prompt indices.</summary>
    public int[] Next(int batchSize)
    {
        var batch = new int[batchSize];
        for (var i = 0; i < batchSize; i++)
        {
            if (State.Position == _count)
            {
                State = new SamplerState(State.Epoch + 1, 0);
                _order = Permutation(_count, _seed, State.Epoch);
            }
            batch[i] = _order[State.Position];
            State = State with { Position = State.Position + 1 };
        }
        return batch;
    }

    internal static int[] Permutation(int count, ulong seed, int epoch)
    {
        var order = Enumerable.Range(0, count).ToArray();
        var state = seed ^ (0x9E3779B97F4A7C15UL * (ulong)(epoch + 1));
        SplitMix64.Shuffle(order, ref state);
        return order;
    }
}
