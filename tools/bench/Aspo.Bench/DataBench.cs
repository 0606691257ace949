using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Aspo.Data.Shards;
using Aspo.Data.Tokenization;
using Aspo.Native;
using Aspo.Native.DuckDb;

namespace Aspo.Bench;

/// <summary>
/// `tools/bench/run data`: (1) tokenizer encode MB/s on a 10 MB mixed corpus with the Qwen3 vocabulary, ours vs Hugging
/// Face tokenizers 0.23.2 (npm, one encode call per line, same corpus file, same machine); (2) rollout shard write and
/// read for 100,000 rows with 1,000-token responses, against DuckDB writing/reading the same shape generated in SQL.
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
        if (hfSeconds is not null && hfTokens != tokens)
            Console.WriteLine($"WARNING: token counts differ (ours {tokens}, HF {hfTokens})");
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
        var folder = Path.Combine(work, "shards");
        var write = Stopwatch.StartNew();
        string path;
        using (var writer = new ShardWriter(folder))
        {
            for (var start = 0; start < rows; start += 10_000)
                writer.Append(data.GetRange(start, 10_000));
            path = writer.WritePart(0);
        }
        var writeSeconds = write.Elapsed.TotalSeconds;
        var fileMb = new FileInfo(path).Length / 1e6;

        var read = Stopwatch.StartNew();
        long readRows = 0, checksum = 0;
        using (var reader = new ShardReader(folder))
            foreach (var batch in reader.ReadBatches(4096))
            {
                readRows += batch.Count;
                foreach (var r in batch)
                    checksum += r.ResponseTokenIds[^1];
            }
        var readSeconds = read.Elapsed.TotalSeconds;
        if (readRows != rows || checksum != data.Sum(r => (long)r.ResponseTokenIds[^1]))
            throw new InvalidOperationException("shard benchmark read back different data");

        // DuckDB alone: the same shape generated in SQL, written and scanned (no managed rows on either side)
        var duckPath = Path.Combine(work, "duck.parquet");
        using var db = DuckDbDatabase.Open();
        using var conn = db.Connect();
        var duckWrite = Stopwatch.StartNew();
        conn.Execute($$"""
            COPY (SELECT 'bench' AS run_id, 1 AS iteration, 1 AS policy_version, 'p' || (i // 16) AS prompt_uid, (i % 16)::INTEGER AS sample_index,
                         'math' AS data_source, [(random() * 151643)::INTEGER FOR x IN range(100)] AS prompt_token_ids,
                         [(random() * 151643)::INTEGER FOR x IN range({{responseTokens}})] AS response_token_ids,
                         [(-random() * 5)::FLOAT FOR x IN range({{responseTokens}})] AS old_logprobs, NULL::FLOAT[] AS entropies,
                         'The answer is \boxed{42}.' AS response_text, '42' AS ground_truth, (i % 2)::DOUBLE AS reward,
                         MAP {'correct': (i % 2)::DOUBLE} AS reward_components, 'stop' AS finish_reason, 1::FLOAT AS temperature,
                         1::FLOAT AS top_p, 0 AS top_k, i::UBIGINT AS seed
                  FROM range({{rows}}) t(i)) TO {{DuckDbConnection.Literal(duckPath)}} (FORMAT parquet, COMPRESSION zstd)
            """);
        var duckWriteSeconds = duckWrite.Elapsed.TotalSeconds;
        var duckRead = Stopwatch.StartNew();
        using (var scan = conn.Query($"SELECT sum(list_sum(response_token_ids)), sum(list_sum(old_logprobs)) FROM read_parquet({DuckDbConnection.Literal(duckPath)})"))
            scan.FetchChunk()?.Dispose();
        var duckReadSeconds = duckRead.Elapsed.TotalSeconds;
        var duckMb = new FileInfo(duckPath).Length / 1e6;
        var rawMb = rows * (100 + 2.0 * responseTokens) * 4 / 1e6;

        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant($"Rollout shards: {rows:N0} rows × {responseTokens} response tokens (+100 prompt tokens), {rawMb:F0} MB of ids and log-probs, zstd"));
        Console.WriteLine();
        Console.WriteLine("| step | seconds | rows/s | MB/s (raw) | file MB |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
        Console.WriteLine(FormattableString.Invariant($"| ours: write (append + COPY) | {writeSeconds:F2} | {rows / writeSeconds:F0} | {rawMb / writeSeconds:F0} | {fileMb:F0} |"));
        Console.WriteLine(FormattableString.Invariant($"| ours: read into managed rows (streaming, batches of 4096) | {readSeconds:F2} | {rows / readSeconds:F0} | {rawMb / readSeconds:F0} | {fileMb:F0} |"));
        Console.WriteLine(FormattableString.Invariant($"| DuckDB alone: generate + write in SQL | {duckWriteSeconds:F2} | {rows / duckWriteSeconds:F0} | {rawMb / duckWriteSeconds:F0} | {duckMb:F0} |"));
        Console.WriteLine(FormattableString.Invariant($"| DuckDB alone: scan + aggregate in SQL | {duckReadSeconds:F2} | {rows / duckReadSeconds:F0} | {rawMb / duckReadSeconds:F0} | {duckMb:F0} |"));
    }
}
