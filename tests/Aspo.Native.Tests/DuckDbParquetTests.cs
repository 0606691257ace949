using System.Text;
using Aspo.Native.DuckDb;

namespace Aspo.Native.Tests;

public sealed class DuckDbParquetTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-duckdb-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Row(long Id, string? Text, float[]? Values);

    /// <summary>10,000 rows: short (inlined) and long strings, non-ASCII text, empty strings, empty and NULL lists, NULL text.</summary>
    private static List<Row> MakeRows(int count)
    {
        var rng = new Random(42);
        var rows = new List<Row>(count);
        for (var i = 0; i < count; i++)
        {
            var text = (i % 1000) switch
            {
                0 => null,
                1 => "",
                2 => "héllo wörld — ünïcödé ✓ 数学",
                _ => new string('a', rng.Next(0, 40)) + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            };
            float[]? values = (i % 997) == 5 ? null : new float[rng.Next(0, 9)];
            if (values is not null)
                for (var j = 0; j < values.Length; j++)
                    values[j] = (float)(rng.NextDouble() * 2e3 - 1e3) * (j == 3 ? 1e-30f : 1f);
            rows.Add(new Row(i * 3L - 5_000_000_000L, text, values));
        }
        return rows;
    }

    private static void AppendRows(DuckDbConnection conn, string table, IReadOnlyList<Row> rows)
    {
        using var appender = conn.CreateAppender(table);
        using var chunk = appender.CreateChunk();
        var capacity = DuckDbDatabase.VectorSize;
        for (var start = 0; start < rows.Count; start += capacity)
        {
            chunk.Reset();
            var n = Math.Min(capacity, rows.Count - start);
            var ids = chunk.GetVector(0).GetData<long>(n);
            var texts = chunk.GetVector(1);
            var lists = chunk.GetVector(2);
            for (var r = 0; r < n; r++)
            {
                var row = rows[start + r];
                ids[r] = row.Id;
                if (row.Text is null) texts.SetNull(r); else texts.SetString(r, row.Text);
                if (row.Values is null) lists.SetNull(r); else lists.AppendList<float>(r, row.Values);
            }
            chunk.Size = n;
            appender.Append(chunk);
        }
        appender.Close();
    }

    private static List<Row> ReadRows(DuckDbConnection conn, string sql)
    {
        using var result = conn.Query(sql);
        Assert.Equal([DuckDbType.BigInt, DuckDbType.Varchar, DuckDbType.List], result.ColumnTypes);
        var rows = new List<Row>();
        while (result.FetchChunk() is { } chunk)
            using (chunk)
            {
                var n = chunk.Size;
                var ids = chunk.GetVector(0).GetData<long>(n);
                var texts = chunk.GetVector(1);
                var lists = chunk.GetVector(2);
                var entries = lists.GetListEntries(n);
                var child = lists.ListChild.GetData<float>(lists.ListSize);
                for (var r = 0; r < n; r++)
                {
                    var text = texts.IsValid(r) ? texts.GetString(r) : null;
                    var values = lists.IsValid(r) ? child.Slice((int)entries[r].Offset, (int)entries[r].Length).ToArray() : null;
                    rows.Add(new Row(ids[r], text, values));
                }
            }
        return rows;
    }

    [Fact]
    public void Library_is_duckdb_1_5_6()
    {
        Assert.Equal("v1.5.6", DuckDbDatabase.LibraryVersion);
        Assert.Equal(2048, DuckDbDatabase.VectorSize);
    }

    [Fact]
    public void Ten_thousand_rows_round_trip_through_parquet_exactly()
    {
        var rows = MakeRows(10_000);
        var path = Path.Combine(_dir, "rows.parquet");
        using (var db = DuckDbDatabase.Open())
        using (var conn = db.Connect())
        {
            conn.Execute("CREATE TABLE t (id BIGINT, text VARCHAR, values FLOAT[])");
            AppendRows(conn, "t", rows);
            Assert.Equal(10_000, conn.Execute($"COPY t TO {DuckDbConnection.Literal(path)} (FORMAT parquet)"));
        }

        // a fresh database reads the file: nothing comes from the first one's memory
        using var db2 = DuckDbDatabase.Open();
        using var conn2 = db2.Connect();
        var back = ReadRows(conn2, $"SELECT id, text, values FROM read_parquet({DuckDbConnection.Literal(path)}) ORDER BY id");

        Assert.Equal(rows.Count, back.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            Assert.Equal(rows[i].Id, back[i].Id);
            Assert.Equal(rows[i].Text, back[i].Text);
            if (rows[i].Values is null)
            {
                Assert.Null(back[i].Values);
                continue;
            }
            Assert.NotNull(back[i].Values);
            // bit-exact floats, including the tiny (denormal-range) ones
            Assert.Equal(rows[i].Values!.Select(BitConverter.SingleToInt32Bits), back[i].Values!.Select(BitConverter.SingleToInt32Bits));
        }

        // DuckDB's own view of the file agrees on the schema
        using var schema = conn2.Query($"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet({DuckDbConnection.Literal(path)}))");
        using var chunk = schema.FetchChunk()!;
        var types = Enumerable.Range(0, chunk.Size).Select(r => chunk.GetVector(0).GetString(r) + " " + chunk.GetVector(1).GetString(r)).ToArray();
        Assert.Equal(["id BIGINT", "text VARCHAR", "values FLOAT[]"], types);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.0)]
    public void Truncated_parquet_file_gives_an_error_naming_the_file(double keepFraction)
    {
        var path = Path.Combine(_dir, "truncated.parquet");
        using var db = DuckDbDatabase.Open();
        using var conn = db.Connect();
        conn.Execute($"COPY (SELECT range AS id, [range::FLOAT, 1.5] AS v FROM range(5000)) TO {DuckDbConnection.Literal(path)} (FORMAT parquet)");
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * keepFraction)]);

        var e = Assert.Throws<DuckDbException>(() => conn.Query($"SELECT count(*) FROM read_parquet({DuckDbConnection.Literal(path)})"));
        Assert.Contains("truncated.parquet", e.Message);
        Assert.False(string.IsNullOrWhiteSpace(e.NativeMessage));
    }

    [Fact]
    public void Sql_error_carries_duckdb_message_and_the_statement()
    {
        using var db = DuckDbDatabase.Open();
        using var conn = db.Connect();
        var e = Assert.Throws<DuckDbException>(() => conn.Query("SELEC 1"));
        Assert.Contains("syntax error", e.NativeMessage, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("SELEC 1", e.Message);
    }

    [Fact]
    public void Appender_for_a_missing_table_is_an_error_naming_it()
    {
        using var db = DuckDbDatabase.Open();
        using var conn = db.Connect();
        var e = Assert.Throws<DuckDbException>(() => conn.CreateAppender("no_such_table"));
        Assert.Contains("no_such_table", e.Message);
    }

    [Fact]
    public void Database_file_persists_between_opens()
    {
        var file = Path.Combine(_dir, "test.duckdb");
        using (var db = DuckDbDatabase.Open(file))
        using (var conn = db.Connect())
            conn.Execute("CREATE TABLE k AS SELECT 'it''s' AS s, 7::BIGINT AS n");
        using var db2 = DuckDbDatabase.Open(file);
        using var conn2 = db2.Connect();
        using var result = conn2.Query("SELECT s, n FROM k");
        Assert.Equal(1, result.ColumnIndex("n"));
        Assert.Throws<KeyNotFoundException>(() => result.ColumnIndex("missing"));
        using var chunk = result.FetchChunk()!;
        Assert.Equal("it's", chunk.GetVector(0).GetString(0));
        Assert.Equal(7L, chunk.GetVector(1).GetData<long>(1)[0]);
        Assert.Null(result.FetchChunk());
    }

    [Fact]
    public void Using_a_disposed_handle_is_an_object_disposed_error_not_a_crash()
    {
        var db = DuckDbDatabase.Open();
        var conn = db.Connect();
        conn.Dispose();
        Assert.Throws<ObjectDisposedException>(() => conn.Query("SELECT 1"));
        conn.Dispose(); // idempotent
        db.Dispose();
        Assert.Throws<ObjectDisposedException>(() => db.Connect());
    }

    [Fact]
    public void Unopenable_database_path_is_an_error_naming_it()
    {
        var file = Path.Combine(_dir, "not-a-db.duckdb");
        File.WriteAllBytes(file, Encoding.ASCII.GetBytes("this is not a duckdb database file, it is plain text padding padding padding"));
        var e = Assert.Throws<DuckDbException>(() => DuckDbDatabase.Open(file));
        Assert.Contains(file, e.Message);
    }
}
