using Aspo.Algorithms.Losses;

namespace Aspo.Algorithms;

/// <summary>The policy losses by name (verl <c>loss_mode</c> style). An unknown name fails listing the valid ones.</summary>
public static class PolicyLosses
{
    public static IReadOnlyList<string> Names { get; } =
        ["aspo", "aspo_paper", "ppo", "grpo", "dapo", "cispo", "no_is", "no_is_masked", "clip_cov", "kl_cov", "forking_tokens"];

    /// <summary>The defaults of loss <paramref name="name"/> (the reference code's, see the module README).</summary>
    public static PolicyLossOptions DefaultOptions(string name) => Require(name) switch
    {
        "aspo_paper" => new PolicyLossOptions { AspoEntropySplit = false },
        "dapo" or "forking_tokens" => new PolicyLossOptions { ClipLow = 0.2, ClipHigh = 0.28, DualClip = 10.0 },
        "cispo" => new PolicyLossOptions { ClipLow = 1.0, ClipHigh = 0.28 },
        _ => new PolicyLossOptions(),
    };

    /// <summary>
    /// The options loss <paramref name="name"/> reads, by their pipeline.yaml names (algorithm.*): the config refuses
    /// the others for this loss, since setting them would change nothing.
    /// </summary>
    public static IReadOnlyList<string> OptionKeys(string name) => Require(name) switch
    {
        "aspo" => ["dual_clip", "aspo_entropy_split", "aspo_low_entropy_clip", "aspo_high_entropy_clip", "aspo_entropy_quantile"],
        "aspo_paper" => ["dual_clip", "aspo_low_entropy_clip"],
        "ppo" or "grpo" or "dapo" => ["clip_low", "clip_high", "dual_clip"],
        "cispo" or "no_is_masked" => ["clip_low", "clip_high"],
        "no_is" => [],
        "clip_cov" => ["clip_low", "clip_high", "clip_cov_ratio", "clip_cov_lower_bound", "clip_cov_upper_bound"],
        "kl_cov" => ["kl_cov_ratio", "kl_cov_coefficient"],
        _ /* forking_tokens */ => ["clip_low", "clip_high", "dual_clip", "entropy_top_ratio"],
    };

    /// <summary>The loss <paramref name="name"/> with <paramref name="options"/> (null: its defaults).</summary>
    /// <exception cref="ArgumentException">unknown name (the message lists the valid ones) or an invalid option</exception>
    public static IPolicyLoss Create(string name, PolicyLossOptions? options = null)
    {
        var o = options ?? DefaultOptions(name);
        o.Validate();
        return Require(name) switch
        {
            "aspo" or "aspo_paper" => new AspoLoss(o),
            "ppo" or "grpo" or "dapo" => new VanillaPpoLoss(name, o),
            "cispo" => new CispoLoss(o),
            "no_is" => new NoIsLoss(masked: false, o),
            "no_is_masked" => new NoIsLoss(masked: true, o),
            "clip_cov" => new ClipCovLoss(o),
            "kl_cov" => new KlCovLoss(o),
            _ /* forking_tokens */ => new ForkingTokensLoss(o),
        };
    }

    private static string Require(string name) => Names.Contains(name)
        ? name
        : throw new ArgumentException($"unknown policy loss '{name}'; valid losses: {string.Join(", ", Names)}", nameof(name));
}
