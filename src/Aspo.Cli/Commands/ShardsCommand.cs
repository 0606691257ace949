using System.CommandLine;
using Aspo.Data.Shards;
using Aspo.Native.DuckDb;

namespace Aspo.Cli.Commands;

/// <summary><c>aspo shards query "SQL" --shards PATH</c>: DuckDB SQL over rollout shards, exposed as the view <c>shards</c>.</summary>
internal static class ShardsCommand
{
    public static Command Create()
    {
        var sql = new Argument<string>("sql") { Description = "SQL over the view `shards`, e.g. \"SELECT iteration, avg(reward) FROM shards GROUP BY 1\"." };
        var shards = new Option<string>("--shards") { Description = "A shard file, a folder of shards, or a glob (runs/NAME/iter-*/shards/*.parquet).", Required = true };
        var query = new Command("query", "Run DuckDB SQL over rollout shards and print the result as a table.") { sql, shards };
        query.SetAction(parse => CommandRunner.Run(() => Query(parse.GetValue(sql)!, parse.GetValue(shards)!, Console.Out)));
        return new Command("shards", "Rollout shard tools.") { query };
    }

    internal static int Query(string sql, string shards, TextWriter output)
    {
        var files = ShardReader.Resolve(shards);
        using var db = DuckDbDatabase.Open();
        using var conn = db.Connect();
        var list = string.Join(", ", files.Select(DuckDbConnection.Literal));
        conn.Execute($"CREATE VIEW shards AS SELECT * FROM read_parquet([{list}], union_by_name = true)");
        using var result = conn.Query($"SELECT COLUMNS(*)::VARCHAR FROM ({sql.TrimEnd().TrimEnd(';')})");
        var rows = new List<string[]>();
        while (result.FetchChunk() is { } chunk)
            using (chunk)
                for (var r = 0; r < chunk.Size; r++)
                    rows.Add(Enumerable.Range(0, result.ColumnCount).Select(c => chunk.GetVector(c).IsValid(r) ? chunk.GetVector(c).GetString(r) : "NULL").ToArray());
        var header = result.ColumnNames.ToArray();
        var widths = header.Select((h, c) => Math.Max(h.Length, rows.Select(r => r[c].Length).DefaultIfEmpty(0).Max())).ToArray();
        output.WriteLine(string.Join(" | ", header.Select((h, c) => h.PadRight(widths[c]))).TrimEnd());
        output.WriteLine(string.Join("-|-", widths.Select(w => new string('-', w))));
        foreach (var r in rows)
            output.WriteLine(string.Join(" | ", r.Select((v, c) => v.PadRight(widths[c]))).TrimEnd());
        output.WriteLine($"({rows.Count} row{(rows.Count == 1 ? "" : "s")}, {files.Count} shard file{(files.Count == 1 ? "" : "s")})");
        return 0;
    }
}
