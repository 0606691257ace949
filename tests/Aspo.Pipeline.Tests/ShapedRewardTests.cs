using Aspo.Pipeline.Config;
using Aspo.Rewards;

namespace Aspo.Pipeline.Tests;

public sealed class ShapedRewardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("aspo-shaping-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private RewardShapingSettings Load(string yaml)
    {
        var path = Path.Combine(_dir, "pipeline.yaml");
        File.WriteAllText(path, yaml);
        var root = YamlSection.Load(path);
        var settings = RewardConfig.FromYaml(root.Section("reward"));
        root.RejectUnknownKeys();
        return settings;
    }

    [Fact]
    public void Format_length_and_overlong_terms_apply_in_order_and_are_logged()
    {
        var settings = Load("""
            reward:
              format: {required_tags: ["<think>", "</think>"], bonus: 0.5, missing_score: -1}
              length_penalty: {target_tokens: 10, per_token: 0.01}
              overlong: {max_response_length: 20, buffer: 5, penalty_factor: 1.0}
            """);
        var shaped = new ShapedReward(RewardRegistry.CreateDefault(), settings);
        var results = shaped.ScoreBatch(
        [
            new("hendrycks_math", "", "<think>2+2</think> \\boxed{4}", "4", 8),   // correct, tags, short: 1 + 0.5
            new("hendrycks_math", "", "</think> \\boxed{4} <think>", "4", 8),     // tags out of order: replaced by −1
            new("hendrycks_math", "", "<think>x</think> \\boxed{4}", "4", 18),    // 8 over target: −0.08; overlong: −(18−15)/5 = −0.6
        ]);
        Assert.Equal(1.5, results[0].Score, 12);
        Assert.Equal(1.0, results[0].Components["base_score"]);
        Assert.Equal(1.0, results[0].Components["format"]);
        Assert.Equal(0.0, results[0].Components["overlong_reward"]);
        Assert.Equal(-1.0, results[1].Score, 12);
        Assert.Equal(0.0, results[1].Components["format"]);
        Assert.Equal(1.0 + 0.5 - 0.08 - 0.6, results[2].Score, 12);
        Assert.Equal(-0.08, results[2].Components["length_penalty"], 12);
        Assert.Equal(-0.6, results[2].Components["overlong_reward"], 12);
        Assert.Equal(1.0, results[2].Components["hendrycks"]); // the grader's own components are kept
    }

    [Fact]
    public void No_reward_section_is_the_identity()
    {
        var settings = Load("reward: {}\n");
        Assert.True(settings.IsIdentity);
        var request = new RewardRequest("hendrycks_math", "", "\\boxed{4}", "4", 3);
        var shaped = new ShapedReward(RewardRegistry.CreateDefault(), settings).ScoreBatch([request])[0];
        Assert.Equal(1.0, shaped.Score);
        Assert.Equal(["format", "hendrycks", "numeric"], shaped.Components.Keys.Order());
    }

    [Theory]
    [InlineData("reward:\n  format: {required_tag: [\"<think>\"]}\n", "unknown key 'reward.format.required_tag'")]
    [InlineData("reward:\n  overlong: {max_response_length: 100, buffer: 200}\n", "buffer must be in 1..max_response_length (100)")]
    [InlineData("reward:\n  length_penalty: {target_tokens: 10, per_token: -1}\n", "target_tokens and per_token must be ≥ 0")]
    [InlineData("reward:\n  format: {required_tags: \"<think>\"}\n", "reward.format.required_tags: expected a list of strings")]
    [InlineData("reward:\n  overlong: {max_response_length: many}\n", "2:35: reward.overlong.max_response_length: expected an integer, got 'many'")]
    public void Bad_reward_sections_fail_naming_the_key(string yaml, string expected) =>
        Assert.Contains(expected, Assert.Throws<ConfigException>(() => Load(yaml)).Message);
}
