using Parquet;
using Parquet.Schema;

namespace Aspo.Data.Shards;

/// <summary>
/// One shard column: its name, the type DuckDB reads it as, its Parquet field, and how a batch of rows is written into
/// it with Parquet.Net. Lists and the map are written with explicit definition and repetition levels (Parquet.Net has no
/// writer for nested columns from arrays): per row, a null list gives one entry at level 0, an empty list or map one
/// entry at the element level − 1, and each element one entry at the element level (repetition 0 for a row's first
/// element, 1 after).
/// </summary>
public abstract class ShardColumn
{
    private ShardColumn(string name, string duckDbType)
    {
        Name = name;
        DuckDbType = duckDbType;
    }

    public string Name { get; }
    public string DuckDbType { get; }
    internal abstract Field Field { get; }

    /// <summary>Writes this column of <paramref name="rows"/> into the row group (columns go in schema order).</summary>
    internal abstract Task WriteAsync(ParquetRowGroupWriter group, IReadOnlyList<RolloutRow> rows);

    internal static ShardColumn Text(string name, Func<RolloutRow, string> get) => new TextColumn(name, get);
    internal static ShardColumn Value<T>(string name, string duckDbType, Func<RolloutRow, T> get) where T : struct => new ValueColumn<T>(name, duckDbType, get);
    internal static ShardColumn List<T>(string name, string duckDbType, Func<RolloutRow, T[]?> get) where T : struct => new ListColumn<T>(name, duckDbType, get);
    internal static ShardColumn Map(string name, Func<RolloutRow, IReadOnlyDictionary<string, double>> get) => new MapColumn(name, get);

    /// <summary>Definition and repetition levels for rows whose element counts are <paramref name="lengths"/> (−1 = null).</summary>
    private static (int[] Definition, int[] Repetition) Levels(ReadOnlySpan<int> lengths, int elementLevel)
    {
        var count = 0;
        foreach (var length in lengths)
            count += Math.Max(length, 1); // a null or empty row still has one entry
        var definition = new int[count];
        var repetition = new int[count];
        var at = 0;
        foreach (var length in lengths)
        {
            if (length <= 0)
            {
                definition[at++] = length < 0 ? 0 : elementLevel - 1;
                continue;
            }
            definition.AsSpan(at, length).Fill(elementLevel);
            repetition.AsSpan(at + 1, length - 1).Fill(1);
            at += length;
        }
        return (definition, repetition);
    }

    private sealed class TextColumn(string name, Func<RolloutRow, string> get) : ShardColumn(name, "VARCHAR")
    {
        private readonly DataField<string> _field = new(name);
        internal override Field Field => _field;
        internal override Task WriteAsync(ParquetRowGroupWriter group, IReadOnlyList<RolloutRow> rows) =>
            group.WriteAsync(_field, rows.Select(get).ToArray());
    }

    private sealed class ValueColumn<T>(string name, string duckDbType, Func<RolloutRow, T> get) : ShardColumn(name, duckDbType) where T : struct
    {
        private readonly DataField<T> _field = new(name);
        internal override Field Field => _field;
        internal override Task WriteAsync(ParquetRowGroupWriter group, IReadOnlyList<RolloutRow> rows) =>
            group.WriteAsync<T>(_field, rows.Select(get).ToArray().AsMemory());
    }

    private sealed class ListColumn<T>(string name, string duckDbType, Func<RolloutRow, T[]?> get) : ShardColumn(name, duckDbType) where T : struct
    {
        private readonly ListField _field = new(name, new DataField<T>("element", nullable: false));
        internal override Field Field => _field;

        internal override Task WriteAsync(ParquetRowGroupWriter group, IReadOnlyList<RolloutRow> rows)
        {
            var lists = rows.Select(get).ToArray();
            var lengths = lists.Select(l => l?.Length ?? -1).ToArray();
            var values = new T[lists.Sum(l => l?.Length ?? 0)]; // the elements of all rows, back to back
            var v = 0;
            foreach (var list in lists)
            {
                list?.CopyTo(values, v);
                v += list?.Length ?? 0;
            }
            var item = (DataField)_field.Item;
            var (definition, repetition) = Levels(lengths, item.MaxDefinitionLevel);
            return group.WriteAllPartsAsync<T>(item, values, definition, repetition, CancellationToken.None);
        }
    }

    private sealed class MapColumn(string name, Func<RolloutRow, IReadOnlyDictionary<string, double>> get) : ShardColumn(name, "MAP(VARCHAR, DOUBLE)")
    {
        private readonly MapField _field = new(name, new DataField<string>("key", nullable: false), new DataField<double>("value", nullable: false));
        internal override Field Field => _field;

        internal override async Task WriteAsync(ParquetRowGroupWriter group, IReadOnlyList<RolloutRow> rows)
        {
            // keys in ordinal order, so equal maps give equal bytes
            var entries = rows.Select(r => get(r).OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray()).ToArray();
            var keys = entries.SelectMany(e => e).Select(kv => kv.Key.AsMemory()).ToArray();
            var values = entries.SelectMany(e => e).Select(kv => kv.Value).ToArray();
            var key = (DataField)_field.Key;
            var (definition, repetition) = Levels(entries.Select(e => e.Length).ToArray(), key.MaxDefinitionLevel);
            await group.WriteAllPartsAsync<ReadOnlyMemory<char>>(key, keys, definition, repetition, CancellationToken.None);
            await group.WriteAllPartsAsync<double>((DataField)_field.Value, values, definition, repetition, CancellationToken.None);
        }
    }
}
