using System.CommandLine;
using Aspo.Data.Shards;

namespace Aspo.Cli.Commands;

/// <summary><c>aspo shards query "SQL" --shards PATH</c>: one read-only DuckDB SELECT over rollout shards, exposed as the view <c>shards</c>.</summary>
internal static class ShardsCommand
{
    public static Command Create()
    {
        var sql = new Argument<string>("sql") { Description = "One SELECT over the view `shards`, e.g. \"SELECT iteration, avg(reward) FROM shards GROUP BY 1\". Only the shard files can be read." };
        var shards = new Option<string>("--shards") { Description = "A shard file, a folder of shards, or a glob (runs/NAME/iter-*/shards/*.parquet).", Required = true };
        var query = new Command("query", "Run one read-only DuckDB SELECT over rollout shards and print the result as a table.") { sql, shards };
        query.SetAction(parse => CommandRunner.Run(() => Query(parse.GetValue(sql)!, parse.GetValue(shards)!, Console.Out)));
        return new Command("shards", "Rollout shard tools.") { query };
    }

    internal static int Query(string sql, string shards, TextWriter output)
    {
        var result = ShardQuery.Run(sql, shards);
        var header = result.Columns;
        var rows = result.Rows;
        var widths = header.Select((h, c) => Math.Max(h.Length, rows.Select(r => r[c].Length).DefaultIfEmpty(0).Max())).ToArray();
        output.WriteLine(string.Join(" | ", header.Select((h, c) => h.PadRight(widths[c]))).TrimEnd());
        output.WriteLine(string.Join("-|-", widths.Select(w => new string('-', w))));
        foreach (var r in rows)
            output.WriteLine(string.Join(" | ", r.Select((v, c) => v.PadRight(widths[c]))).TrimEnd());
        output.WriteLine($"({rows.Count} row{(rows.Count == 1 ? "" : "s")}, {result.Files} shard file{(result.Files == 1 ? "" : "s")})");
        return 0;
    }
}
