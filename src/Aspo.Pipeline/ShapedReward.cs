using Aspo.Pipeline.Config;
using Aspo.Rewards;

namespace Aspo.Pipeline;

/// <summary>
/// User reward terms around the verifiable reward, set in the config's <c>reward:</c> section. Each term is off unless
/// configured. Order: format (may replace the score), then length penalty, then DAPO overlong shaping (both added).
/// </summary>
public sealed record RewardShapingSettings
{
    /// <summary>Tags the response must contain, in this order (e.g. "&lt;think&gt;", "&lt;/think&gt;"); empty = no format term.</summary>
    public IReadOnlyList<string> RequiredTags { get; init; } = [];
    /// <summary>Added to the score when every required tag is present.</summary>
    public double FormatBonus { get; init; }
    /// <summary>When set, the score of a response missing a tag is replaced by this (e.g. −1); otherwise it is kept.</summary>
    public double? FormatMissingScore { get; init; }
    /// <summary>Response length (tokens) above which the length penalty applies; 0 = no length penalty.</summary>
    public int LengthPenaltyTarget { get; init; }
    /// <summary>Penalty per token above the target.</summary>
    public double LengthPenaltyPerToken { get; init; }
    /// <summary>DAPO soft overlong punishment: max response length (0 = off), buffer and factor (verl's overlong_buffer).</summary>
    public int OverlongMaxLength { get; init; }
    public int OverlongBuffer { get; init; }
    public double OverlongPenaltyFactor { get; init; } = 1.0;

    public bool IsIdentity => RequiredTags.Count == 0 && LengthPenaltyTarget == 0 && OverlongMaxLength == 0;

    public void Validate()
    {
        if (RequiredTags.Any(string.IsNullOrEmpty))
            throw new ArgumentException("reward.format.required_tags: tags must be non-empty strings");
        if (LengthPenaltyTarget < 0 || LengthPenaltyPerToken < 0)
            throw new ArgumentException($"reward.length_penalty: target_tokens and per_token must be ≥ 0, got {LengthPenaltyTarget} and {LengthPenaltyPerToken}");
        if (OverlongMaxLength < 0 || (OverlongMaxLength > 0 && (OverlongBuffer < 1 || OverlongBuffer > OverlongMaxLength)) || OverlongPenaltyFactor < 0)
            throw new ArgumentException($"reward.overlong: buffer must be in 1..max_response_length ({OverlongMaxLength}) and penalty_factor ≥ 0, got buffer {OverlongBuffer}, factor {OverlongPenaltyFactor}");
    }

    /// <summary>
    /// Reads a config's <c>reward:</c> section:
    /// <code>
    /// reward:
    ///   format: {required_tags: ["&lt;think&gt;", "&lt;/think&gt;"], bonus: 0.0, missing_score: -1.0}
    ///   length_penalty: {target_tokens: 2048, per_token: 0.0001}
    ///   overlong: {max_response_length: 4096, buffer: 1024, penalty_factor: 1.0}
    /// </code>
    /// </summary>
    public static RewardShapingSettings FromYaml(YamlSection reward)
    {
        var format = reward.Section("format");
        var length = reward.Section("length_penalty");
        var overlong = reward.Section("overlong");
        var settings = new RewardShapingSettings
        {
            RequiredTags = format.StringList("required_tags") ?? [],
            FormatBonus = format.Double("bonus", 0),
            FormatMissingScore = format.Has("missing_score") ? format.Double("missing_score", 0) : null,
            LengthPenaltyTarget = length.Int("target_tokens", 0),
            LengthPenaltyPerToken = length.Double("per_token", 0),
            OverlongMaxLength = overlong.Int("max_response_length", 0),
            OverlongBuffer = overlong.Int("buffer", 0),
            OverlongPenaltyFactor = overlong.Double("penalty_factor", 1.0),
        };
        format.RejectUnknownKeys();
        length.RejectUnknownKeys();
        overlong.RejectUnknownKeys();
        try
        {
            settings.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ConfigException($"{reward.File}: {e.Message}");
        }
        return settings;
    }
}

/// <summary>
/// Applies <see cref="RewardShapingSettings"/> on top of any reward: the verifiable score is kept as "base_score" and
/// every term is logged as its own component ("format", "length_penalty", "overlong_reward" — verl's name).
/// </summary>
public sealed class ShapedReward(IRewardFunction inner, RewardShapingSettings settings) : IRewardFunction
{
    public IReadOnlyList<RewardResult> ScoreBatch(IReadOnlyList<RewardRequest> batch)
    {
        var results = inner.ScoreBatch(batch);
        if (settings.IsIdentity)
            return results;
        return [.. results.Select((r, i) => Shape(r, batch[i]))];
    }

    private RewardResult Shape(RewardResult r, RewardRequest request)
    {
        var components = new Dictionary<string, double>(r.Components) { ["base_score"] = r.Score };
        var score = r.Score;
        if (settings.RequiredTags.Count > 0)
        {
            var ok = TagsInOrder(request.Response, settings.RequiredTags);
            components["format"] = ok ? 1 : 0;
            if (ok)
                score += settings.FormatBonus;
            else if (settings.FormatMissingScore is { } missing)
                score = missing;
        }
        if (settings.LengthPenaltyTarget > 0)
        {
            var penalty = -settings.LengthPenaltyPerToken * Math.Max(0, request.ResponseTokens - settings.LengthPenaltyTarget);
            components["length_penalty"] = penalty;
            score += penalty;
        }
        if (settings.OverlongMaxLength > 0)
        {
            var overlong = Aspo.Algorithms.RewardShaping.OverlongPenalty(request.ResponseTokens, settings.OverlongMaxLength, settings.OverlongBuffer, settings.OverlongPenaltyFactor);
            components["overlong_reward"] = overlong;
            score += overlong;
        }
        return new RewardResult(score, components, r.Answer);
    }

    private static bool TagsInOrder(string response, IReadOnlyList<string> tags)
    {
        var at = 0;
        foreach (var tag in tags)
        {
            var found = response.IndexOf(tag, at, StringComparison.Ordinal);
            if (found < 0)
                return false;
            at = found + tag.Length;
        }
        return true;
    }
}
