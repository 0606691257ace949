namespace Aspo.Rewards;

/// <summary>A reward's verdict on one response: the score and its named components (all logged).</summary>
public sealed record RewardResult(double Score, IReadOnlyDictionary<string, double> Components);

/// <summary>Scores one response against its ground truth; the grader is chosen by the row's data_source.</summary>
public interface IRewardFunction
{
    RewardResult Score(string dataSource, string response, string groundTruth);
}

/// <summary>
/// data_source → grader, verl's convention (<c>default_compute_score</c>): the Hendrycks MATH sources use verl's
/// <c>math_reward</c> grader (1/0) with the exact-rational numeric match as a logged component. An unknown
/// data_source is an error listing the known ones, never a silent default grader.
/// </summary>
public sealed class RewardRegistry : IRewardFunction
{
    /// <summary>The data sources verl grades with <c>math_reward.py</c>, plus our own name for the same grader.</summary>
    public static readonly IReadOnlyList<string> HendrycksMathSources =
        ["lighteval/MATH", "DigitalLearningGmbH/MATH-lighteval", "HuggingFaceH4/MATH-500", "hendrycks_math"];

    private readonly Dictionary<string, Func<string, string, RewardResult>> _graders = new(StringComparer.Ordinal);

    /// <param name="requireThinkClose">Grade only the text after "&lt;/think&gt;" (reasoning models); no close tag scores 0.</param>
    public static RewardRegistry CreateDefault(bool requireThinkClose = false)
    {
        var registry = new RewardRegistry();
        foreach (var source in HendrycksMathSources)
            registry.Register(source, (response, truth) => MathVerifier.Verify(response, truth, requireThinkClose));
        return registry;
    }

    /// <summary>Registers a grader for one data_source; registering a name twice is an error.</summary>
    public void Register(string dataSource, Func<string, string, RewardResult> grader)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataSource);
        if (!_graders.TryAdd(dataSource, grader))
            throw new ArgumentException($"a reward for data_source '{dataSource}' is already registered");
    }

    /// <summary>The registered data sources, sorted.</summary>
    public IReadOnlyList<string> DataSources => [.. _graders.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The grader of a data_source; an unknown one fails naming it and the known ones.</summary>
    public Func<string, string, RewardResult> Resolve(string dataSource) =>
        _graders.TryGetValue(dataSource, out var grader)
            ? grader
            : throw new ArgumentException($"no reward for data_source '{dataSource}'; known data sources: {string.Join(", ", DataSources)}");

    public RewardResult Score(string dataSource, string response, string groundTruth) => Resolve(dataSource)(response, groundTruth);
}
