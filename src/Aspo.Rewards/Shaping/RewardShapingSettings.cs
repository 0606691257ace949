
namespace Aspo.Rewards;

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
}
