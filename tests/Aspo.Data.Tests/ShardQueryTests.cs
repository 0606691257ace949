using Aspo.Data.Shards;

namespace Aspo.Data.Tests;

/// <summary><c>shards query</c> runs one SELECT that can read the shards and nothing else.</summary>
public sealed class ShardQueryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-query-").FullName;
    private readonly string _shards;

    public ShardQueryTests()
    {
        _shards = Directory.CreateDirectory(Path.Combine(_dir, "shards")).FullName;
        using var writer = new ShardWriter(_shards);
        writer.Append(ShardTests.RandomRows(40, seed: 11));
        writer.WritePart(0);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_select_over_the_shards_view_runs()
    {
        var result = ShardQuery.Run("SELECT count(*) AS n, sum(len(response_token_ids)) AS tokens FROM shards;", _shards);
        Assert.Equal(["n", "tokens"], result.Columns);
        var rows = ShardTests.RandomRows(40, seed: 11);
        Assert.Equal([["40", rows.Sum(r => r.ResponseTokenIds.Length).ToString(System.Globalization.CultureInfo.InvariantCulture)]], result.Rows);
    }

    [Fact]
    public void Host_files_cannot_be_read()
    {
        var secret = Path.Combine(_dir, "secret.csv");
        File.WriteAllText(secret, "a,b\n1,2\n");
        foreach (var sql in new[]
                 {
                     "SELECT * FROM read_csv('/etc/passwd')",
                     $"SELECT * FROM read_csv('{secret}')",
                     $"SELECT * FROM read_text('{secret}')",
                     "SELECT * FROM glob('/etc/*')",
                     $"SELECT * FROM query('SELECT * FROM read_csv(''{secret}'')')",
                     $"SELECT * FROM shards, read_csv_auto('{secret}')",
                 })
        {
            var e = Assert.Throws<DataFormatException>(() => ShardQuery.Run(sql, _shards));
            Assert.StartsWith("query: ", e.Message);
            Assert.DoesNotContain("CREATE VIEW", e.Message);
        }
    }

    [Fact]
    public void Nothing_can_be_written_or_attached()
    {
        var target = Path.Combine(_dir, "stolen.csv");
        var database = Path.Combine(_dir, "new.duckdb");
        foreach (var sql in new[]
                 {
                     $"SELECT 1); COPY (SELECT * FROM shards) TO '{target}'; SELECT * FROM (SELECT 1",
                     $"COPY (SELECT * FROM shards) TO '{target}'",
                     $"ATTACH '{database}' AS db",
                     "SELECT 1; SELECT 2",
                     "SET lock_configuration = false",
                     "CREATE TABLE t AS SELECT * FROM shards",
                     "INSTALL httpfs",
                 })
        {
            var e = Assert.Throws<DataFormatException>(() => ShardQuery.Run(sql, _shards));
            Assert.Contains("only one read-only SELECT statement is accepted", e.Message);
        }
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(database));
    }

    [Fact]
    public void Errors_name_the_query_not_the_internal_view()
    {
        var e = Assert.Throws<DataFormatException>(() => ShardQuery.Run("SELECT no_such_column FROM shards", _shards));
        Assert.Contains("no_such_column", e.Message);
        Assert.DoesNotContain("CREATE VIEW", e.Message);
        Assert.DoesNotContain("read_parquet", e.Message);
        Assert.Contains("empty", Assert.Throws<DataFormatException>(() => ShardQuery.Run(" ; ", _shards)).Message);
    }
}
