using Aspo.Pipeline.Config;

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
        var settings = new RewardShapingSettings().ReadFormat(reward.Section("format")).ReadLengthPenalty(reward.Section("length_penalty"))
            .ReadOverlong(reward.Section("overlong"));
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

    /// <summary><c>format: {required_tags, bonus, missing_score}</c> (strict: unknown keys are errors).</summary>
    public RewardShapingSettings ReadFormat(YamlSection format)
    {
        var read = this with
        {
            RequiredTags = format.StringList("required_tags") ?? RequiredTags, FormatBonus = format.Double("bonus", FormatBonus),
            FormatMissingScore = format.Has("missing_score") ? format.Double("missing_score", 0) : FormatMissingScore,
        };
        format.RejectUnknownKeys();
        return read;
    }

    /// <summary><c>length_penalty: {target_tokens, per_token}</c>.</summary>
    public RewardShapingSettings ReadLengthPenalty(YamlSection length)
    {
        var read = this with { LengthPenaltyTarget = length.Int("target_tokens", LengthPenaltyTarget), LengthPenaltyPerToken = length.Double("per_token", LengthPenaltyPerToken) };
        length.RejectUnknownKeys();
        return read;
    }

    /// <summary><c>overlong: {max_response_length, buffer, penalty_factor}</c>.</summary>
    public RewardShapingSettings ReadOverlong(YamlSection overlong)
    {
        var read = this with
        {
            OverlongMaxLength = overlong.Int("max_response_length", OverlongMaxLength), OverlongBuffer = overlong.Int("buffer", OverlongBuffer),
            OverlongPenaltyFactor = overlong.Double("penalty_factor", OverlongPenaltyFactor),
        };
        overlong.RejectUnknownKeys();
        return read;
    }
}
