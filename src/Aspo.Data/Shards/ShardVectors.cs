using Aspo.Native.DuckDb;

namespace Aspo.Data.Shards;

/// <summary>
/// The vectors of one data chunk in <see cref="ShardSchema"/> column order, with the fixed-width columns as typed
/// spans over the first N rows — shared by the writer (filling a chunk) and the reader (reading one).
/// </summary>
internal readonly ref struct ShardVectors
{
    public ShardVectors(DuckDbDataChunk chunk, int rows)
    {
        V = new DuckDbVector[ShardSchema.Columns.Count];
        for (var c = 0; c < V.Length; c++)
            V[c] = chunk.GetVector(c);
        Iteration = V[1].GetData<int>(rows);
        PolicyVersion = V[2].GetData<int>(rows);
        SampleIndex = V[4].GetData<int>(rows);
        Reward = V[12].GetData<double>(rows);
        Temperature = V[15].GetData<float>(rows);
        TopP = V[16].GetData<float>(rows);
        TopK = V[17].GetData<int>(rows);
        Seed = V[18].GetData<ulong>(rows);
    }

    /// <summary>All vectors; the variable-width columns (strings, lists) are used through these.</summary>
    public DuckDbVector[] V { get; }
    public Span<int> Iteration { get; }
    public Span<int> PolicyVersion { get; }
    public Span<int> SampleIndex { get; }
    public Span<double> Reward { get; }
    public Span<float> Temperature { get; }
    public Span<float> TopP { get; }
    public Span<int> TopK { get; }
    public Span<ulong> Seed { get; }
}
