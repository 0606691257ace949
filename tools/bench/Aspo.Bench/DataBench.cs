using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Aspo.Data.Shards;
using Aspo.Data.Tokenization;
using Aspo.Native;
using Aspo.Data;

namespace Aspo.Bench;

/// <summary>
/// `tools/bench/run data`: (1) tokenizer encode MB/s on a 10 MB mixed corpus with the Qwen3 vocabulary, ours vs Hugging
/// Face tokenizers 0.23.2 (npm, one encode call per line, same corpus file, same machine); (2) rollout shards of 100,000
/// rows with 1,000-token responses written by both writers in one run — ours (Parquet.Net) and DuckDB's appender +
/// COPY (DuckDB.NET) — and each file read back into managed rows by the shard reader.
/// </summary>
internal static class DataBench
{
    public static int Run()
    {
        var root = ReferenceProcess.RepositoryRoot;
        var tokenizerPath = Path.Combine(NativeLibraryLocator.FindRepositoryNativeDirectory(root)!, "tokenizers", "qwen3", "tokenizer.json");
        var work = Directory.CreateTempSubdirectory("aspo-databench-").FullName;
        try
        {
            Tokenizer(root, tokenizerPath, work);
            Shards(work);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
        return 0;
    }

    /// <summary>~10 MB of lines mixing English prose, code, math/LaTeX, CJK, Cyrillic, Arabic, emoji and digits, fixed seed.</summary>
    private static List<string> Corpus()
    {
        string[] words =
        [
            "the", "policy", "gradient", "advantage", "reward", "model", "token", "sequence", "because", "therefore", "compute", "answer",
            "def", "return", "for", "in", "range(n):", "x", "=", "+", "*", "**", "{", "}", "(", ")", "\\frac{a}{b}", "\\boxed{42}", "$x^2$",
            "中文", "数学", "问题", "答案", "日本語", "テスト", "한국어", "Привет", "мир", "مرحبا", "😀", "👍🏽", "3.14159", "2024", "1,000",
            "don't", "it's", "we'll", "\n", "\n\n", "    ", "\t",
        ];
        var rng = new Random(11);
        var lines = new List<string>();
        var bytes = 0L;
        while (bytes < 10_000_000)
        {
            var sb = new StringBuilder();
            var n = rng.Next(20, 400);
            for (var i = 0; i < n; i++)
            {
                if (i > 0 && rng.Next(3) > 0) sb.Append(' ');
                sb.Append(words[rng.Next(words.Length)]);
            }
            var line = sb.ToString();
            lines.Add(line);
            bytes += Encoding.UTF8.GetByteCount(line);
        }
        return lines;
    }

    private static void Tokenizer(string root, string tokenizerPath, string work)
    {
        var lines = Corpus();
        var megabytes = lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l)) / 1e6;
        var corpusFile = Path.Combine(work, "corpus.jsonl");
        File.WriteAllLines(corpusFile, lines.Select(l => JsonSerializer.Serialize(l)));

        var tokenizer = BpeTokenizer.Load(tokenizerPath);
        var ids = new List<int>();
        var cold = Stopwatch.StartNew();
        long tokens = 0;
        foreach (var line in lines)
        {
            ids.Clear();
            tokenizer.Encode(line, ids);
            tokens += ids.Count;
        }
        var coldSeconds = cold.Elapsed.TotalSeconds;
        var warmTimes = new List<double>();
        for (var rep = 0; rep < 3; rep++)
        {
            var w = Stopwatch.StartNew();
            foreach (var line in lines)
            {
                ids.Clear();
                tokenizer.Encode(line, ids);
            }
            warmTimes.Add(w.Elapsed.TotalSeconds);
        }
        warmTimes.Sort();

        var packages = PackageTokenizers(tokenizerPath, lines, tokenizer, ParityCases(root));

        var hf = ReferenceProcess.RunJson("node", [Path.Combine(root, "tools", "bench", "tokenizer_encode.mjs"), tokenizerPath, corpusFile],
            "cd tools/reference && npm install");
        double? hfSeconds = hf?.GetProperty("seconds").GetDouble();
        var hfTokens = hf?.GetProperty("tokens").GetInt64() ?? 0;

        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant($"Tokenizer encode, Qwen3 vocabulary, {megabytes:F1} MB in {lines.Count} lines, one thread, one call per line"));
        Console.WriteLine();
        Console.WriteLine("| tokenizer | seconds | MB/s | tokens | vs HF |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        Console.WriteLine(FormattableString.Invariant($"| ours, first pass (empty piece cache) | {coldSeconds:F2} | {megabytes / coldSeconds:F1} | {tokens} | {(hfSeconds is { } h1 ? $"{h1 / coldSeconds:F2}×" : "n/a")} |"));
        Console.WriteLine(FormattableString.Invariant($"| ours, warm cache (median of 3) | {warmTimes[1]:F2} | {megabytes / warmTimes[1]:F1} | {tokens} | {(hfSeconds is { } h2 ? $"{h2 / warmTimes[1]:F2}×" : "n/a")} |"));
        if (hfSeconds is { } hs)
            Console.WriteLine(FormattableString.Invariant($"| HF tokenizers 0.23.2 (node, fresh) | {hs:F2} | {megabytes / hs:F1} | {hfTokens} | 1.00× |"));
        foreach (var (name, seconds, count, mismatched, parityMismatched, parityCount) in packages)
            Console.WriteLine(FormattableString.Invariant($"| {name}, warm | {seconds:F2} | {megabytes / seconds:F1} | {count} | {(hfSeconds is { } h3 ? $"{h3 / seconds:F2}×" : "n/a")} |"));
        Console.WriteLine();
        Console.WriteLine("| tokenizer | corpus lines with other ids than ours | parity corpus texts with other ids than Hugging Face |");
        Console.WriteLine("| --- | ---: | ---: |");
        Console.WriteLine($"| ours | 0 | 0 of {packages[0].ParityCount} |");
        foreach (var p in packages)
            Console.WriteLine($"| {p.Name} | {p.Mismatched} of {lines.Count} | {p.ParityMismatched} of {p.ParityCount} |");
        if (hfSeconds is not null && hfTokens != tokens)
            Console.WriteLine($"WARNING: token counts differ (ours {tokens}, HF {hfTokens})");
    }

    /// <summary>
    /// The two NuGet tokenizers on the same lines, warm (second pass): Tokenizers.DotNet (Hugging Face tokenizers in Rust,
    /// one native call per line) and Microsoft.ML.Tokenizers' BpeTokenizer built from the same tokenizer.json (vocabulary,
    /// merges, added tokens, the Split regex, byte-level, NFC applied before the call). Each counts the lines whose ids
    /// differ from ours.
    /// </summary>
    private static List<(string Name, double Seconds, long Tokens, int Mismatched, int ParityMismatched, int ParityCount)> PackageTokenizers(
        string tokenizerPath, List<string> lines, BpeTokenizer ours, List<(string Text, int[] Ids)> parity)
    {
        var expected = lines.Select(ours.Encode).ToArray();
        var results = new List<(string, double, long, int, int, int)>();
        using (var rust = new Tokenizers.DotNet.Tokenizer(tokenizerPath))
            results.Add(Measure("Tokenizers.DotNet 1.4.1 (HF Rust, in process)", line => rust.Encode(line).Select(id => (int)id).ToArray()));
        var ml = MlBpe(tokenizerPath);
        results.Add(Measure("Microsoft.ML.Tokenizers 2.0.1 BpeTokenizer from tokenizer.json", line => [.. ml.EncodeToIds(line.Normalize(NormalizationForm.FormC))]));
        return results;

        (string, double, long, int, int, int) Measure(string name, Func<string, int[]> encode)
        {
            var mismatched = lines.Where((line, i) => !encode(line).AsSpan().SequenceEqual(expected[i])).Count(); // also the warm-up pass
            var parityMismatched = parity.Count(c => !encode(c.Text).AsSpan().SequenceEqual(c.Ids));
            var watch = Stopwatch.StartNew();
            long tokens = 0;
            foreach (var line in lines)
                tokens += encode(line).Length;
            return (name, watch.Elapsed.TotalSeconds, tokens, mismatched, parityMismatched, parity.Count);
        }
    }

    /// <summary>The texts and Hugging Face ids of the tokenizer parity fixture (tools/reference/tokenizer_parity.mjs).</summary>
    private static List<(string Text, int[] Ids)> ParityCases(string root)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "tests", "Aspo.Data.Tests", "Fixtures", "tokenizer_parity.json")));
        return json.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => (c.GetProperty("text").GetString()!, c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray())).ToList();
    }

    private static Microsoft.ML.Tokenizers.Tokenizer MlBpe(string tokenizerPath)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(tokenizerPath));
        var root = json.RootElement;
        var model = root.GetProperty("model");
        var vocabulary = model.GetProperty("vocab").EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetInt32())).ToList();
        var merges = model.GetProperty("merges").EnumerateArray().Select(m => m.ValueKind == JsonValueKind.Array ? $"{m[0].GetString()} {m[1].GetString()}" : m.GetString()!).ToList();
        var special = root.GetProperty("added_tokens").EnumerateArray().ToDictionary(t => t.GetProperty("content").GetString()!, t => t.GetProperty("id").GetInt32());
        var pattern = root.GetProperty("pre_tokenizer").GetProperty("pretokenizers")[0].GetProperty("pattern").GetProperty("Regex").GetString()!;
        return Microsoft.ML.Tokenizers.BpeTokenizer.Create(new Microsoft.ML.Tokenizers.BpeOptions(vocabulary)
        {
            Merges = merges, SpecialTokens = special, ByteLevel = true,
            PreTokenizer = new Microsoft.ML.Tokenizers.RegexPreTokenizer(new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.Compiled), special),
        });
    }

    private static void Shards(string work)
    {
        const int rows = 100_000, responseTokens = 1000;
        var rng = new Random(5);
        var data = new List<RolloutRow>(rows);
        for (var i = 0; i < rows; i++)
            data.Add(new RolloutRow
            {
                RunId = "bench", Iteration = 1, PolicyVersion = 1, PromptUid = $"p{i / 16}", SampleIndex = i % 16, DataSource = "math",
                PromptTokenIds = Enumerable.Range(0, 100).Select(_ => rng.Next(151643)).ToArray(),
                ResponseTokenIds = Enumerable.Range(0, responseTokens).Select(_ => rng.Next(151643)).ToArray(),
                OldLogprobs = Enumerable.Range(0, responseTokens).Select(_ => (float)(-rng.NextDouble() * 5)).ToArray(),
                Entropies = null, ResponseText = "The answer is \\boxed{42}.", GroundTruth = "42", Reward = i % 2,
                RewardComponents = new Dictionary<string, double> { ["correct"] = i % 2 }, FinishReason = "stop",
                Temperature = 1, TopP = 1, TopK = 0, Seed = (ulong)i,
            });
        var rawMb = rows * (100 + 2.0 * responseTokens) * 4 / 1e6;
        var expectedChecksum = data.Sum(r => (long)r.ResponseTokenIds[^1]);
        var parquetNet = Path.Combine(work, "parquet-net");
        var duckdb = Path.Combine(work, "duckdb");
        var results = new List<(string Writer, double Write, double Read, double FileMb)>();
        for (var round = 0; round < 2; round++) // alternate, so neither writer always runs on a cold or a warm machine
            foreach (var (name, folder) in round == 0 ? new[] { ("ours: Parquet.Net", parquetNet), ("DuckDB.NET appender + COPY", duckdb) } : [("DuckDB.NET appender + COPY", duckdb), ("ours: Parquet.Net", parquetNet)])
            {
                if (Directory.Exists(folder))
                    Directory.Delete(folder, recursive: true);
                var write = Stopwatch.StartNew();
                var path = folder == parquetNet ? WriteWithParquetNet(folder, data) : WriteWithDuckDb(folder, data);
                var writeSeconds = write.Elapsed.TotalSeconds;
                var read = Stopwatch.StartNew();
                long readRows = 0, checksum = 0;
                using (var reader = new ShardReader(path))
                    foreach (var batch in reader.ReadBatches(4096))
                    {
                        readRows += batch.Count;
                        foreach (var r in batch)
                            checksum += r.ResponseTokenIds[^1];
                    }
                var readSeconds = read.Elapsed.TotalSeconds;
                if (readRows != rows || checksum != expectedChecksum)
                    throw new InvalidOperationException($"{name}: the shard read back different data");
                results.Add((name, writeSeconds, readSeconds, new FileInfo(path).Length / 1e6));
            }

        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant($"Rollout shards: {rows:N0} rows × {responseTokens} response tokens (+100 prompt tokens), {rawMb:F0} MB of ids and log-probs, zstd; each writer twice, alternating; reads by the shard reader (DuckDB.NET, streaming, batches of 4096)"));
        Console.WriteLine();
        Console.WriteLine("| writer | write s (median) | write MB/s | read s (median) | read MB/s | file MB | write vs DuckDB |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        var duckWrite = BenchStats.Median(results.Where(r => r.Writer.StartsWith("DuckDB", StringComparison.Ordinal)).Select(r => r.Write));
        foreach (var writer in results.Select(r => r.Writer).Distinct())
        {
            var mine = results.Where(r => r.Writer == writer).ToList();
            double w = BenchStats.Median(mine.Select(r => r.Write)), rd = BenchStats.Median(mine.Select(r => r.Read));
            Console.WriteLine(FormattableString.Invariant($"| {writer} | {w:F2} | {rawMb / w:F0} | {rd:F2} | {rawMb / rd:F0} | {mine[0].FileMb:F0} | {duckWrite / w:F2}× |"));
        }
    }

    private static string WriteWithParquetNet(string folder, List<RolloutRow> data)
    {
        using var writer = new ShardWriter(folder);
        for (var start = 0; start < data.Count; start += 10_000)
            writer.Append(data.GetRange(start, Math.Min(10_000, data.Count - start)));
        return writer.WritePart(0);
    }

    /// <summary>The writer this project used before Parquet.Net: rows appended into an in-memory DuckDB table, then COPY to zstd Parquet.</summary>
    private static string WriteWithDuckDb(string folder, List<RolloutRow> data)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, ShardSchema.PartFileName(0));
        using var conn = DuckDbSql.Open();
        // reward_components is staged as JSON text and becomes MAP(VARCHAR, DOUBLE) on the way out
        DuckDbSql.Execute(conn, """
            CREATE TABLE staging (run_id VARCHAR, iteration INTEGER, policy_version INTEGER, prompt_uid VARCHAR, sample_index INTEGER,
              data_source VARCHAR, prompt_token_ids INTEGER[], response_token_ids INTEGER[], old_logprobs FLOAT[], entropies FLOAT[],
              response_text VARCHAR, ground_truth VARCHAR, reward DOUBLE, reward_components_json VARCHAR, finish_reason VARCHAR,
              temperature FLOAT, top_p FLOAT, top_k INTEGER, seed UBIGINT)
            """);
        using (var appender = conn.CreateAppender("staging"))
        {
            foreach (var row in data)
            {
                var r = appender.CreateRow().AppendValue(row.RunId).AppendValue(row.Iteration).AppendValue(row.PolicyVersion).AppendValue(row.PromptUid)
                    .AppendValue(row.SampleIndex).AppendValue(row.DataSource).AppendValue<int>(row.PromptTokenIds).AppendValue<int>(row.ResponseTokenIds)
                    .AppendValue<float>(row.OldLogprobs);
                r = row.Entropies is null ? r.AppendNullValue() : r.AppendValue<float>(row.Entropies);
                r.AppendValue(row.ResponseText).AppendValue(row.GroundTruth).AppendValue(row.Reward).AppendValue(JsonSerializer.Serialize(row.RewardComponents))
                    .AppendValue(row.FinishReason).AppendValue(row.Temperature).AppendValue(row.TopP).AppendValue(row.TopK).AppendValue(row.Seed).EndRow();
            }
            appender.Close();
        }
        var columns = string.Join(", ", ShardSchema.Columns.Select(c => c.Name == "reward_components"
            ? "CAST(CAST(reward_components_json AS JSON) AS MAP(VARCHAR, DOUBLE)) AS reward_components" : c.Name));
        DuckDbSql.Execute(conn, $"COPY (SELECT {columns} FROM staging) TO {DuckDbSql.Literal(path)} " +
            $"(FORMAT parquet, COMPRESSION zstd, KV_METADATA {{\"{ShardSchema.VersionKey}\": '{ShardSchema.Version}'}})");
        return path;
    }
}
