using Aspo.Data;
using Aspo.Data.Shards;
using Aspo.Model;
using Aspo.Native.Blas;
using Aspo.Onnx;
using Aspo.Rewards;
using Aspo.Tests.Shared;

namespace Aspo.Pipeline.Tests;

public sealed class RolloutStageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-rollout-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Scores 1 when the response contains the ground truth, and reports the length as a component.</summary>
    private sealed class ContainsAnswer : IRewardFunction
    {
        public IReadOnlyList<RewardResult> ScoreBatch(IReadOnlyList<RewardRequest> batch) =>
            [.. batch.Select(r => new RewardResult(r.Response.Contains(r.GroundTruth, StringComparison.Ordinal) ? 1 : 0, new Dictionary<string, double> { ["chars"] = r.Response.Length }))];
    }

    private (ModelConfig Config, float[] Parameters, string OnnxFolder) ExportTinyModel()
    {
        var config = TinyQwen.Config() with { MaxPositionEmbeddings = 256 };
        var p = TinyQwen.Parameters(config, seed: 2);
        var onnx = Path.Combine(_dir, "onnx");
        DecoderExporter.Export(config, p, onnx, TestRepository.Qwen3TokenizerFolder);
        return (config, p, onnx);
    }

    [Fact]
    public void Eval_grades_n_samples_per_prompt_and_summarises_avg_at_n_and_pass_at_k()
    {
        var (_, _, onnx) = ExportTinyModel();
        using var model = OnnxDecoder.Open(onnx, threads: 1);
        var tokenizer = model.LoadTokenizer();
        var template = ChatTemplate.FromTokenizerConfig(onnx);
        var rewards = RewardRegistry.CreateDefault();
        // a random model: "correct" = the response contains the ground-truth letter, so prompts get mixed correctness
        rewards.Register("toy", (response, truth) => new RewardResult(response.Contains(truth, StringComparison.Ordinal) ? 1 : 0, new Dictionary<string, double>()));
        PromptRecord[] prompts =
        [
            new(0, "toy", [new ChatMessage("user", "a")], "e", "", "{}"),
            new(1, "toy", [new ChatMessage("user", "b")], "a", "", "{}"),
            new(2, "toy", [new ChatMessage("user", "c")], "x", "", "{}"),
            new(3, "lighteval/MATH", [new ChatMessage("user", "d")], "7", "", "{}"),
        ];
        var settings = new EvalSettings { SamplesPerPrompt = 4, Seed = 5, BatchSize = 8, Sampling = new SamplingParams { Temperature = 1f, MaxNewTokens = 12 } };
        var result = EvalStage.Run(model, tokenizer, template, rewards, prompts, settings);
        Assert.Equal(16, result.Rows.Count);
        Assert.Equal(["lighteval/MATH", "toy", "all"], result.Summaries.Select(s => s.DataSource));

        // expected figures straight from the rows: per prompt c correct of n = 4, pass@k by enumeration
        var perPrompt = result.Rows.GroupBy(r => r.PromptUid).ToDictionary(g => g.Key, g => g.Count(r => r.Reward > 0));
        var toy = result.Summaries[1];
        var toyCounts = perPrompt.Where(kv => kv.Key.StartsWith("toy#", StringComparison.Ordinal)).Select(kv => kv.Value).ToList();
        Assert.Equal(3, toy.Prompts);
        Assert.Equal(toyCounts.Average(c => c / 4.0), toy.AvgAtN, 12);
        Assert.Equal([1, 2, 4], toy.PassAtK.Select(x => x.K));
        foreach (var (k, pass) in toy.PassAtK)
            Assert.Equal(toyCounts.Average(c => PassAtKEnumeration.Exact(4, c, k)), pass, 12);
        var all = result.Summaries[2];
        Assert.Equal(perPrompt.Values.Average(c => c / 4.0), all.AvgAtN, 12);
        Assert.Equal(16, all.Samples);
        Assert.True(toyCounts.Sum() > 0, "the toy grader should see some correct samples"); // else the check above is vacuous

        // a data_source without a reward fails before any sampling, naming it and the known ones
        var e = Assert.Throws<ArgumentException>(() => EvalStage.Run(model, tokenizer, template, rewards,
            [new(0, "nope", [new ChatMessage("user", "a")], "1", "", "{}")], settings));
        Assert.Contains("no reward for data_source 'nope'", e.Message);
        Assert.Throws<ArgumentException>(() => EvalStage.Run(model, tokenizer, template, rewards, prompts, settings with { Ks = [8] }));
    }

    [Fact]
    public void Rollout_rows_carry_seeds_old_logprobs_and_rewards_and_round_trip_through_a_shard()
    {
        var (config, p, onnx) = ExportTinyModel();

        using var model = OnnxDecoder.Open(onnx, threads: 1);
        var tokenizer = model.LoadTokenizer();
        var stage = new RolloutStage(model, tokenizer, ChatTemplate.FromTokenizerConfig(onnx), new ContainsAnswer());
        PromptRecord[] prompts =
        [
            new(0, "toy", [new ChatMessage("user", "Say 4.")], "4", "math", "{}"),
            new(1, "toy", [new ChatMessage("user", "Say 5.")], "5", "math", "{}"),
        ];
        var settings = new RolloutSettings
        {
            RunId = "t", Iteration = 2, PolicyVersion = 7, MasterSeed = 11, SamplesPerPrompt = 3, BatchSize = 4,
            Sampling = new SamplingParams { Temperature = 1f, MaxNewTokens = 6, RecordEntropy = true },
        };
        var rows = stage.Run(prompts, settings);
        Assert.Equal(6, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.Equal(7, r.PolicyVersion);
            Assert.Equal(r.ResponseTokenIds.Length, r.OldLogprobs.Length);
            Assert.Equal(r.ResponseTokenIds.Length, r.Entropies!.Length);
            Assert.Equal(SampleSeeds.Derive(11, 2, r.PromptUid, r.SampleIndex), r.Seed);
            Assert.Equal(r.ResponseText.Contains(r.GroundTruth) ? 1 : 0, r.Reward);
            Assert.Equal(r.ResponseText.Length, r.RewardComponents["chars"]);
            Assert.Equal(tokenizer.Decode(r.ResponseTokenIds), r.ResponseText);
        });
        Assert.Equal(["toy#0", "toy#0", "toy#0", "toy#1", "toy#1", "toy#1"], rows.Select(r => r.PromptUid));

        // the same rows again (batching differently) and through a shard
        var again = stage.Run(prompts, settings with { BatchSize = 6 });
        Assert.Equal(rows.Select(r => r.ResponseTokenIds), again.Select(r => r.ResponseTokenIds));
        using (var writer = new ShardWriter(Path.Combine(_dir, "shards")))
        {
            writer.Append(rows);
            writer.WritePart(0);
        }
        using var reader = new ShardReader(Path.Combine(_dir, "shards"));
        var back = reader.ReadBatches().SelectMany(b => b).ToList();
        Assert.Equal(rows.Count, back.Count);
        Assert.All(rows.Zip(back), pair => Assert.True(pair.First.SameAs(pair.Second)));

        // the old log-probs are what the learner recomputes on the same tokens
        var learner = new Decoder(config, p, new OneDnnGemm());
        foreach (var r in rows.Where(r => r.ResponseTokenIds.Length > 0))
        {
            var tokens = r.PromptTokenIds.Concat(r.ResponseTokenIds).ToArray();
            var recomputed = new float[r.ResponseTokenIds.Length];
            learner.Forward(tokens, [0, tokens.Length], [r.PromptTokenIds.Length], 1f, recomputed, [], forTraining: false);
            Assert.True(recomputed.Zip(r.OldLogprobs, (a, b) => Math.Abs(a - b)).Max() <= 1e-3);
        }
    }
}
