using System.Globalization;
using Aspo.Data;
using Aspo.Data.Shards;
using Aspo.Data.Tokenization;
using Aspo.Onnx;
using Aspo.Rewards;

namespace Aspo.Pipeline;

/// <summary>
/// The rollout stage core: prompts rendered with the chat template and tokenized, n samples each from the generator
/// (seeds from master seed, iteration, prompt uid and sample index), rewards, and shard rows with the old log-probs.
/// Evaluation may pass another engine (ONNX Runtime GenAI); rollouts for training always use ours.
/// </summary>
public sealed class RolloutStage(OnnxDecoder model, BpeTokenizer tokenizer, ChatTemplate template, IRewardFunction reward, GenAiEngine? genAi = null)
{
    /// <summary>Generation progress: (samples finished, samples in all, tokens generated).</summary>
    public Action<int, int, long>? OnProgress { get; set; }

    /// <summary>The uid of a prompt: its data source and row in the dataset.</summary>
    public static string PromptUid(PromptRecord p) => $"{p.DataSource}#{p.Row.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The question a verifier sees: the prompt's last user message.</summary>
    public static string Question(PromptRecord p) => p.Prompt.LastOrDefault(m => m.Role == "user")?.Content ?? "";

    public List<RolloutRow> Run(IReadOnlyList<PromptRecord> prompts, RolloutSettings settings) =>
        [.. RunGraded(prompts, settings).Select(g => g.Row)];

    /// <summary>
    /// SPO-tree's sampling: per prompt, <see cref="RolloutSettings.SamplesPerPrompt"/> first-level segments, then under
    /// every node that reached the segment length <paramref name="branching"/>[l] children, level by level (one
    /// generator call per level; the generator prefills each node's text once and copies its cache to the children).
    /// Segments hold <paramref name="segment"/> tokens except on the last level, which runs to max_new_tokens in all;
    /// a node that stops early is a leaf. Every node is a row: its segment's tokens and log-probs; parent_sample = its
    /// parent node's sample_index (−1 on the first level), branch_token = the parent's segment length; reward = the
    /// grade of the whole text up to the node's end (a leaf's is its return).
    /// </summary>
    public List<RolloutRow> RunTree(IReadOnlyList<PromptRecord> prompts, RolloutSettings settings, IReadOnlyList<int> branching, int segment)
    {
        var levels = branching.Count + 1;
        var lastBudget = settings.Sampling.MaxNewTokens - (levels - 1) * segment;
        if (segment < 1 || lastBudget < 1 || branching.Any(b => b < 1))
            throw new ArgumentException($"an SPO tree of {levels} levels with {segment}-token segments needs max_new_tokens > {(levels - 1) * segment} and branching factors ≥ 1");
        var rows = new List<RolloutRow>();
        var counters = new Dictionary<string, int>(StringComparer.Ordinal);
        // the frontier: nodes to expand (null parent = the prompt), with the response text before their children
        var frontier = prompts.Select(p => (Prompt: p, Ids: PromptIds(p), Context: Array.Empty<int>(), Parent: (RolloutRow?)null)).ToList();
        for (var level = 0; level < levels && frontier.Count > 0; level++)
        {
            var width = level == 0 ? settings.SamplesPerPrompt : branching[level - 1];
            var last = level == levels - 1;
            var jobs = new List<(PromptRecord Prompt, int[] Ids, int[] Context, RolloutRow? Parent, int Sample, ulong Seed)>();
            foreach (var (p, ids, context, parent) in frontier)
                for (var k = 0; k < width; k++)
                {
                    var uid = PromptUid(p);
                    var sample = counters.GetValueOrDefault(uid);
                    counters[uid] = sample + 1;
                    jobs.Add((p, ids, context, parent, sample, SampleSeeds.Derive(settings.MasterSeed, settings.Iteration, uid, sample)));
                }
            var sampling = settings.Sampling with { MaxNewTokens = last ? lastBudget : segment };
            var results = SampleGenerator(settings).Generate([.. jobs.Select(j => new GenerationRequest([.. j.Ids, .. j.Context], j.Seed))], sampling);
            var verdicts = Grade(jobs.Count, settings.BatchSize, i => new RewardRequest(jobs[i].Prompt.DataSource, Question(jobs[i].Prompt),
                tokenizer.Decode([.. jobs[i].Context, .. results[i].Tokens]), jobs[i].Prompt.GroundTruth, jobs[i].Context.Length + results[i].Tokens.Length));
            var next = new List<(PromptRecord, int[], int[], RolloutRow?)>();
            for (var i = 0; i < jobs.Count; i++)
            {
                var (p, ids, context, parent, sample, seed) = jobs[i];
                var r = results[i];
                var row = NewRow(settings, p, ids, sample, seed, r, r.Text ?? tokenizer.Decode(r.Tokens), verdicts[i]) with
                {
                    ParentSample = parent?.SampleIndex ?? -1, BranchToken = parent?.ResponseTokenIds.Length ?? -1,
                };
                rows.Add(row);
                if (!last && r.FinishReason == "length" && r.Tokens.Length > 0)
                    next.Add((p, ids, [.. context, .. r.Tokens], row));
            }
            frontier = next;
        }
        return rows;
    }

    /// <summary>
    /// Monte-Carlo continuations (SPO's value estimates): for every sample and each of its branch points b (a prefix
    /// length), <paramref name="perBranch"/> continuations of prompt + response[..b], graded as whole responses
    /// (prefix + continuation). Equal prefixes of one prompt are sampled once (the first sample having it is the
    /// parent); the generator prefills each prefix once and copies its cache to the continuations. Each continuation
    /// is a row of its own: sample_index after the prompt's samples, parent_sample, branch_token = b, the continuation's
    /// tokens and log-probs; reward = the whole response's. Continuations stop at the rollout's max_new_tokens in all.
    /// </summary>
    public List<RolloutRow> RunContinuations(IReadOnlyList<PromptRecord> prompts, IReadOnlyList<RolloutRow> samples, RolloutSettings settings,
        Func<RolloutRow, int[]> branchPoints, int perBranch)
    {
        if (perBranch < 1)
            throw new ArgumentException($"continuations per branch point must be ≥ 1, got {perBranch}");
        var byUid = prompts.ToDictionary(PromptUid, StringComparer.Ordinal);
        var jobs = new List<(PromptRecord Prompt, RolloutRow Parent, int Branch, int Sample, ulong Seed)>();
        foreach (var group in samples.Where(r => r.IsSample).GroupBy(r => r.PromptUid))
        {
            var next = group.Max(r => r.SampleIndex) + 1;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var parent in group.OrderBy(r => r.SampleIndex))
                foreach (var b in branchPoints(parent))
                {
                    if (!seen.Add(string.Join(',', parent.ResponseTokenIds[..b])))
                        continue;
                    for (var k = 0; k < perBranch; k++, next++)
                        jobs.Add((byUid[group.Key], parent, b, next, SampleSeeds.Derive(settings.MasterSeed, settings.Iteration, group.Key, next)));
                }
        }
        if (jobs.Count == 0)
            return [];
        var generator = SampleGenerator(settings);
        // one call with the longest budget any continuation has, each cut to its own afterwards (an autoregressive
        // sample's prefix is a sample of the shorter budget) — one batch instead of one call per prefix length; when
        // the longest prefix plus that budget would pass the context length, one call per prefix length instead
        var shortest = jobs.Min(j => j.Branch);
        var longestContext = jobs.Max(j => j.Parent.PromptTokenIds.Length + j.Branch);
        var results = new GenerationResult[jobs.Count];
        var calls = longestContext + settings.Sampling.MaxNewTokens - shortest <= model.ContextLength
            ? [[.. Enumerable.Range(0, jobs.Count)]]
            : Enumerable.Range(0, jobs.Count).GroupBy(i => jobs[i].Branch).Select(g => g.ToArray()).ToArray();
        foreach (var call in calls)
        {
            var sampling = settings.Sampling with { MaxNewTokens = settings.Sampling.MaxNewTokens - call.Min(i => jobs[i].Branch) };
            var generated = generator.Generate([.. call.Select(i => new GenerationRequest([.. jobs[i].Parent.PromptTokenIds, .. jobs[i].Parent.ResponseTokenIds[..jobs[i].Branch]], jobs[i].Seed))], sampling);
            for (var k = 0; k < call.Length; k++)
                results[call[k]] = generated[k];
        }
        var cut = Enumerable.Range(0, jobs.Count).Select(i =>
        {
            var budget = settings.Sampling.MaxNewTokens - jobs[i].Branch;
            var r = results[i];
            return r.Tokens.Length <= budget ? r : r with { Tokens = r.Tokens[..budget], LogProbs = r.LogProbs[..budget], Entropies = r.Entropies?[..budget], FinishReason = "length", Text = null };
        }).ToArray();
        var verdicts = Grade(jobs.Count, settings.BatchSize, i => new RewardRequest(jobs[i].Prompt.DataSource, Question(jobs[i].Prompt),
            tokenizer.Decode([.. jobs[i].Parent.ResponseTokenIds[..jobs[i].Branch], .. cut[i].Tokens]), jobs[i].Prompt.GroundTruth, jobs[i].Branch + cut[i].Tokens.Length));
        return [.. jobs.Select((j, i) => j.Parent with
        {
            SampleIndex = j.Sample, ResponseTokenIds = cut[i].Tokens, OldLogprobs = cut[i].LogProbs, Entropies = cut[i].Entropies,
            ResponseText = cut[i].Text ?? tokenizer.Decode(cut[i].Tokens), Reward = verdicts[i].Score, RewardComponents = verdicts[i].Components,
            FinishReason = cut[i].FinishReason, Seed = j.Seed, ParentSample = j.Parent.SampleIndex, BranchToken = j.Branch,
        })];
    }

    /// <summary>The rows with the reward verdicts (which also carry the extracted answers evaluation votes on).</summary>
    public List<(RolloutRow Row, RewardResult Verdict)> RunGraded(IReadOnlyList<PromptRecord> prompts, RolloutSettings settings)
    {
        if (settings.SamplesPerPrompt < 1 || settings.BatchSize < 1)
            throw new ArgumentException("samples per prompt and batch size must be at least 1");
        var jobs = new List<(PromptRecord Prompt, int[] Ids, int Sample, ulong Seed)>();
        foreach (var p in prompts)
        {
            var ids = PromptIds(p);
            for (var s = 0; s < settings.SamplesPerPrompt; s++)
                jobs.Add((p, ids, s, SampleSeeds.Derive(settings.MasterSeed, settings.Iteration, PromptUid(p), s)));
        }
        // continuous batching: BatchSize rows decode at once and a finished row's slot goes to the next waiting sample
        // (1.74× the tokens/s of separate calls per batch for 0.5B shapes with early stops; README, rollout benchmark)
        ISamplingEngine generator = genAi is null ? SampleGenerator(settings) : genAi;
        if (genAi is not null)
            genAi.BatchSize = settings.BatchSize;
        if (OnProgress is { } progress)
            generator.OnProgress = (finished, tokens) => progress(finished, jobs.Count, tokens);
        var results = generator.Generate([.. jobs.Select(j => new GenerationRequest(j.Ids, j.Seed))], settings.Sampling);
        var texts = results.Select(r => r.Text ?? tokenizer.Decode(r.Tokens)).ToArray();
        var verdicts = Grade(jobs.Count, settings.BatchSize, i =>
            new RewardRequest(jobs[i].Prompt.DataSource, Question(jobs[i].Prompt), texts[i], jobs[i].Prompt.GroundTruth, results[i].Tokens.Length));
        var rows = new List<(RolloutRow, RewardResult)>(jobs.Count);
        for (var i = 0; i < jobs.Count; i++)
            rows.Add((NewRow(settings, jobs[i].Prompt, jobs[i].Ids, jobs[i].Sample, jobs[i].Seed, results[i], texts[i], verdicts[i]), verdicts[i]));
        return rows;
    }

    /// <summary>A prompt's token ids: its messages through the chat template, with the generation prompt.</summary>
    private int[] PromptIds(PromptRecord p) => tokenizer.Encode(template.Render(p.Prompt, addGenerationPrompt: true));

    /// <summary>Our generator for rollouts: <see cref="RolloutSettings.BatchSize"/> slots refilled as rows finish
    /// (continuous batching), sampling on the host or in the graph as the settings say.</summary>
    private Generator SampleGenerator(RolloutSettings settings) =>
        new(model, tokenizer) { MaxActiveRows = settings.BatchSize, UseSamplingHead = settings.SamplingHead };

    /// <summary>The verdicts of requests 0 … count − 1, graded a batch at a time: sandboxed and model-based graders
    /// see batches, not single rows.</summary>
    private RewardResult[] Grade(int count, int batchSize, Func<int, RewardRequest> request)
    {
        var verdicts = new RewardResult[count];
        for (var start = 0; start < count; start += batchSize)
        {
            var size = Math.Min(batchSize, count - start);
            var batch = reward.ScoreBatch([.. Enumerable.Range(start, size).Select(request)]);
            for (var k = 0; k < size; k++)
                verdicts[start + k] = batch[k];
        }
        return verdicts;
    }

    /// <summary>A sample's shard row: the run's labels, the prompt, the generated tokens with their log-probs, the verdict.</summary>
    private static RolloutRow NewRow(RolloutSettings settings, PromptRecord p, int[] ids, int sample, ulong seed, GenerationResult r, string text, RewardResult verdict) => new()
    {
        RunId = settings.RunId, Iteration = settings.Iteration, PolicyVersion = settings.PolicyVersion, PromptUid = PromptUid(p),
        SampleIndex = sample, DataSource = p.DataSource, PromptTokenIds = ids, ResponseTokenIds = r.Tokens, OldLogprobs = r.LogProbs,
        Entropies = r.Entropies, ResponseText = text, GroundTruth = p.GroundTruth, Reward = verdict.Score,
        RewardComponents = verdict.Components, FinishReason = r.FinishReason, Temperature = settings.Sampling.Temperature,
        TopP = settings.Sampling.TopP, TopK = settings.Sampling.TopK, Seed = seed,
    };
}
