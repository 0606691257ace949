using Aspo.Rewards.Code;

namespace Aspo.Rewards;

/// <summary>
/// data_source → grader, verl's convention (<c>default_compute_score</c>): the Hendrycks MATH sources use verl's
/// <c>math_reward</c> grader (1/0) with the exact-rational numeric match as a logged component; math_dapo, math,
/// math_dapo_reasoning and every name starting "aime" use <c>math_dapo</c> (+1/−1, acc). An unknown data_source is an
/// error listing the known ones, never a silent default grader.
/// </summary>
public sealed class RewardRegistry : IRewardFunction
{
    /// <summary>The data sources verl grades with <c>math_reward.py</c>, plus our own name for the same grader.</summary>
    public static readonly IReadOnlyList<string> HendrycksMathSources =
        ["lighteval/MATH", "DigitalLearningGmbH/MATH-lighteval", "HuggingFaceH4/MATH-500", "hendrycks_math"];

    /// <summary>verl's gsm8k.py (strict "#### N") data source.</summary>
    public const string Gsm8kSource = "openai/gsm8k";

    /// <summary>Benchmarks whose answers are boxed expressions, graded like the Hendrycks sources (names used by the shipped suites).</summary>
    public static readonly IReadOnlyList<string> BoxedMathSources = ["amc23", "minerva_math", "olympiadbench"];

    /// <summary>The data sources verl grades with <c>math_dapo.py</c>; names starting with <see cref="DapoMathPrefix"/> too.</summary>
    public static readonly IReadOnlyList<string> DapoMathSources = ["math_dapo", "math", "math_dapo_reasoning"];

    public const string DapoMathPrefix = "aime";

    /// <summary>The synthetic arithmetic task family (data_source "arith/L1" …): the answer in the last \boxed{}, Hendrycks-normalised.</summary>
    public const string ArithmeticPrefix = "arith/";

    /// <summary>Code data sources graded by running the response's program on stdin/stdout tests in the sandbox.</summary>
    public static readonly IReadOnlyList<string> CodeSources = ["livecodebench", "codecontests", "apps", "taco", "codeforces"];

    private readonly Dictionary<string, BatchGrader> _graders = new(StringComparer.Ordinal);
    private readonly List<(string Prefix, BatchGrader Grader)> _prefixGraders = [];

    /// <param name="requireThinkClose">Grade only the text after "&lt;/think&gt;" (reasoning models); no close tag scores 0.</param>
    /// <param name="codeLimits">Sandbox limits of the code graders; the sandbox is created on first use, so machines
    /// without it can still grade math.</param>
    public static RewardRegistry CreateDefault(bool requireThinkClose = false, SandboxLimits? codeLimits = null)
    {
        var registry = new RewardRegistry();
        foreach (var source in HendrycksMathSources.Concat(BoxedMathSources))
            registry.Register(source, (response, truth) => MathVerifier.Verify(response, truth, requireThinkClose));
        registry.Register(Gsm8kSource, (response, truth) => Gsm8k.Score(response, truth));
        // math_dapo keeps only the last 300 characters, so the reasoning before </think> rarely matters; it is not stripped
        foreach (var source in DapoMathSources)
            registry.Register(source, (response, truth) => DapoMath.Score(response, truth));
        registry.RegisterPrefix(DapoMathPrefix, (response, truth) => DapoMath.Score(response, truth));
        registry.RegisterPrefix(ArithmeticPrefix, (response, truth) => MathVerifier.Verify(response, truth, requireThinkClose));
        var code = new Lazy<CodeReward>(() => new CodeReward(new PythonSandbox(), codeLimits ?? new SandboxLimits(), Environment.ProcessorCount));
        foreach (var source in CodeSources)
            registry.Register(source, (response, truth) => code.Value.Score(response, truth));
        return registry;
    }

    private static BatchGrader PerItem(Func<string, string, RewardResult> grader) =>
        batch => [.. batch.Select(r => grader(r.Response, r.GroundTruth))];

    /// <summary>Registers a rule grader (response, ground truth) for one data_source; registering a name twice is an error.</summary>
    public void Register(string dataSource, Func<string, string, RewardResult> grader) => RegisterBatch(dataSource, PerItem(grader));

    /// <summary>Registers a batch grader (e.g. a model-based verifier) for one data_source.</summary>
    public void RegisterBatch(string dataSource, BatchGrader grader)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataSource);
        if (!_graders.TryAdd(dataSource, grader))
            throw new ArgumentException($"a reward for data_source '{dataSource}' is already registered");
    }

    /// <summary>Registers a rule grader for every data_source starting with <paramref name="prefix"/> (exact names win).</summary>
    public void RegisterPrefix(string prefix, Func<string, string, RewardResult> grader)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (_prefixGraders.Exists(p => p.Prefix == prefix))
            throw new ArgumentException($"a reward for data_source prefix '{prefix}*' is already registered");
        _prefixGraders.Add((prefix, PerItem(grader)));
    }

    /// <summary>The registered data sources, sorted; prefixes shown as "prefix*".</summary>
    public IReadOnlyList<string> DataSources =>
        [.. _graders.Keys.Concat(_prefixGraders.Select(p => p.Prefix + "*")).Order(StringComparer.Ordinal)];

    /// <summary>The grader of a data_source; an unknown one fails naming it and the known ones.</summary>
    public BatchGrader Resolve(string dataSource)
    {
        if (_graders.TryGetValue(dataSource, out var grader))
            return grader;
        foreach (var (prefix, prefixGrader) in _prefixGraders)
        {
            if (dataSource.StartsWith(prefix, StringComparison.Ordinal))
                return prefixGrader;
        }
        throw new ArgumentException($"no reward for data_source '{dataSource}'; known data sources: {string.Join(", ", DataSources)}");
    }

    /// <summary>Grades one response (no question, no length): the rule graders' convenience entry point.</summary>
    public RewardResult Score(string dataSource, string response, string groundTruth) =>
        Resolve(dataSource)([new RewardRequest(dataSource, "", response, groundTruth)])[0];

    /// <summary>Grades a batch: every data_source is resolved first (an unknown one fails before any grading), then each
    /// grader gets its rows in one call; results come back in the batch's order.</summary>
    public IReadOnlyList<RewardResult> ScoreBatch(IReadOnlyList<RewardRequest> batch)
    {
        var groups = batch.Select((r, i) => (r, i)).GroupBy(x => x.r.DataSource, StringComparer.Ordinal)
            .Select(g => (Grader: Resolve(g.Key), Items: g.ToList())).ToList();
        var results = new RewardResult[batch.Count];
        foreach (var (grader, items) in groups)
        {
            var graded = grader([.. items.Select(x => x.r)]);
            if (graded.Count != items.Count)
                throw new InvalidOperationException($"the grader of data_source '{items[0].r.DataSource}' returned {graded.Count} results for {items.Count} responses");
            for (var j = 0; j < items.Count; j++)
                results[items[j].i] = graded[j];
        }
        return results;
    }
}
