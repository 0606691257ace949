using Aspo.Algorithms;
using Aspo.Data;
using Aspo.Data.Shards;
using Aspo.Model;

namespace Aspo.Pipeline;

/// <summary>
/// The learn stage of iterative DPO (<c>algorithm.loss: dpo</c>): each prompt's sampled responses, ranked by their
/// reward, give preference pairs (<c>algorithm.dpo_pairs</c>); an optimizer step takes whole prompt groups
/// (mini_batch / n of them), scores the policy's sequence log-probs on them once without gradients (a chosen response's
/// coefficient depends on its rejected partner, which may sit in another micro-batch), computes the DPO coefficients
/// and then runs the usual micro-batched forward/backward with each sequence's coefficient on all of its tokens.
/// The reference log-probs come from <see cref="LearnSettings.ReferenceLogProbs"/> (the policy <c>ref_every</c> names).
/// </summary>
public static class PreferenceStage
{
    public static IReadOnlyList<Dictionary<string, double>> Run(ILearner learner, IReadOnlyList<RolloutRow> rows, LearnSettings settings,
        Action<int, int, Dictionary<string, double>>? onStep = null)
    {
        var a = settings.Algorithm;
        var temperature = LearnStage.SingleTemperature(rows);
        var reference = settings.ReferenceLogProbs;
        if (reference is null || reference.Count != rows.Count)
            throw new ArgumentException($"dpo needs the reference policy's log-probs for each of the {rows.Count} rows, got {reference?.Count ?? 0}");
        var groupIds = LearnStage.GroupIds(rows);
        var scores = rows.Select(r => (float)r.Reward).ToArray();
        var referenceSums = reference.Select(SequenceSum).ToArray();
        var selection = PreferencePairs.ParseSelection(a.DpoPairs);
        var groupCount = (int)groupIds.Max() + 1;
        var groupsPerStep = Math.Max(1, (int)((long)a.MiniBatch * groupCount / rows.Count));
        var members = Enumerable.Range(0, rows.Count).GroupBy(i => groupIds[i]).ToDictionary(g => g.Key, g => g.ToArray());
        var o = settings.Optimizer;
        var schedule = new LearningRateSchedule(o.Schedule, o.LearningRate, o.WarmupSteps, settings.TotalSteps);
        var total = a.PpoEpochs * ((groupCount + groupsPerStep - 1) / groupsPerStep);
        var steps = new List<Dictionary<string, double>>();
        for (var epoch = 0; epoch < a.PpoEpochs; epoch++)
        {
            var order = LearnStage.Shuffle([.. Enumerable.Range(0, groupCount)], settings.Seed, settings.Iteration, epoch);
            for (var start = 0; start < order.Length; start += groupsPerStep)
            {
                // the step's responses (non-empty ones; an empty response has no token to train) and their pairs
                var candidates = order.Skip(start).Take(groupsPerStep).SelectMany(g => members[g]).Where(i => rows[i].ResponseTokenIds.Length > 0).Order().ToArray();
                var pairs = PreferencePairs.Build([.. candidates.Select(i => scores[i])], [.. candidates.Select(i => groupIds[i])], selection)
                    .Select(p => new PreferencePair(candidates[p.Chosen], candidates[p.Rejected])).ToList();
                var metrics = pairs.Count == 0
                    ? new Dictionary<string, double>(StringComparer.Ordinal) { ["dpo/pairs"] = 0, ["actor/tokens"] = 0 }
                    : Step(learner, rows, referenceSums, pairs, a.DpoBeta, a.MicroBatch, temperature, o.GradClip, schedule);
                steps.Add(metrics);
                onStep?.Invoke(steps.Count, total, metrics);
            }
        }
        return steps;
    }

    private static double SequenceSum(float[] tokenLogProbs)
    {
        double sum = 0;
        foreach (var x in tokenLogProbs)
            sum += x;
        return sum;
    }

    /// <summary>One optimizer step on <paramref name="pairs"/> (indices into <paramref name="rows"/>).</summary>
    private static Dictionary<string, double> Step(ILearner learner, IReadOnlyList<RolloutRow> rows, double[] referenceSums, List<PreferencePair> pairs,
        double beta, int microBatch, float temperature, double gradClip, LearningRateSchedule schedule)
    {
        var used = pairs.SelectMany(p => new[] { p.Chosen, p.Rejected }).Distinct().Order().ToArray();
        var local = used.Select((row, k) => (row, k)).ToDictionary(x => x.row, x => x.k);
        var localPairs = pairs.Select(p => new PreferencePair(local[p.Chosen], local[p.Rejected])).ToList();
        var usedRows = used.Select(i => rows[i]).ToArray();
        // π_θ's sequence log-probs at the step's weights (a scoring pass, no activations kept)
        var policy = LearnStage.Recompute(learner, usedRows, microBatch).Select(SequenceSum).ToArray();
        var coefficients = new double[used.Length];
        var result = DpoLoss.Compute(localPairs, policy, [.. used.Select(i => referenceSums[i])], beta, coefficients);

        var micros = Enumerable.Range(0, used.Length).Chunk(microBatch).ToArray(); // positions in used (ascending, like used)
        var packed = micros.Select(micro => PackedSequences.Pack([.. micro.Select(k => (usedRows[k].PromptTokenIds, usedRows[k].ResponseTokenIds))])).ToArray();
        double entropySum = 0;
        var step = TrainerStep.Run(learner, packed, temperature, (m, _, entropies, dLogProbs, _) =>
        {
            var offsets = packed[m].ScoredOffsets;
            for (var s = 0; s < micros[m].Length; s++)
                dLogProbs[offsets[s]..offsets[s + 1]].Fill((float)coefficients[micros[m][s]]);
            foreach (var h in entropies)
                entropySum += h;
        }, gradClip, schedule);
        var metrics = result.Metrics();
        LearnStage.AddStepMetrics(metrics, result.Loss, entropySum, step);
        return metrics;
    }
}
