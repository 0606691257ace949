using Aspo.Rewards;

namespace Aspo.Pipeline.Config;

/// <summary>The config's <c>reward:</c> section read into <see cref="RewardShapingSettings"/> (strict: unknown keys are errors).</summary>
public static class RewardConfig
{
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
        var settings = ReadOverlong(ReadLengthPenalty(ReadFormat(new RewardShapingSettings(), reward.Section("format")), reward.Section("length_penalty")), reward.Section("overlong"));
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
    public static RewardShapingSettings ReadFormat(RewardShapingSettings settings, YamlSection format)
    {
        var read = settings with
        {
            RequiredTags = format.StringList("required_tags") ?? settings.RequiredTags, FormatBonus = format.Double("bonus", settings.FormatBonus),
            FormatMissingScore = format.Has("missing_score") ? format.Double("missing_score", 0) : settings.FormatMissingScore,
        };
        format.RejectUnknownKeys();
        return read;
    }

    /// <summary><c>length_penalty: {target_tokens, per_token}</c>.</summary>
    public static RewardShapingSettings ReadLengthPenalty(RewardShapingSettings settings, YamlSection length)
    {
        var read = settings with { LengthPenaltyTarget = length.Int("target_tokens", settings.LengthPenaltyTarget), LengthPenaltyPerToken = length.Double("per_token", settings.LengthPenaltyPerToken) };
        length.RejectUnknownKeys();
        return read;
    }

    /// <summary><c>overlong: {max_response_length, buffer, penalty_factor}</c>.</summary>
    public static RewardShapingSettings ReadOverlong(RewardShapingSettings settings, YamlSection overlong)
    {
        var read = settings with
        {
            OverlongMaxLength = overlong.Int("max_response_length", settings.OverlongMaxLength), OverlongBuffer = overlong.Int("buffer", settings.OverlongBuffer),
            OverlongPenaltyFactor = overlong.Double("penalty_factor", settings.OverlongPenaltyFactor),
        };
        overlong.RejectUnknownKeys();
        return read;
    }
}
