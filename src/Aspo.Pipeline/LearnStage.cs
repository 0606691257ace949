using Aspo.Algorithms;
using Aspo.Data;
using Aspo.Data.Shards;
using Aspo.Model;

namespace Aspo.Pipeline;

/// <summary>
/// The learn stage core: shard rows → GRPO-style advantages per prompt group → <c>ppo_epochs</c> passes over seeded
/// shuffles of the sequences in mini-batches; each mini-batch accumulates gradients over its micro-batches (the
/// aggregation normalisers are the mini-batch's, so the step equals one big batch) → gradient clipping → AdamW.
/// The learner recomputes log-probs at the rollout temperature; the shard's old log-probs are π_old. Returns one
/// metrics dictionary per optimizer step (verl names).
/// </summary>
public static class LearnStage
{
    /// <param name="onStep">Called after each optimizer step with (step number, steps in all, that step's metrics).</param>
    public static IReadOnlyList<Dictionary<string, double>> Run(ILearner learner, IReadOnlyList<RolloutRow> rows, LearnSettings settings,
        Action<int, int, Dictionary<string, double>>? onStep = null)
    {
        var a = settings.Algorithm;
        if (a.Loss == DpoLoss.Name)
            return PreferenceStage.Run(learner, rows, settings, onStep);
        var temperature = SingleTemperature(rows);

        // per sequence: score → advantage within its prompt group (or, with a critic, per token from GAE)
        var groupIds = GroupIds(rows);
        var scores = rows.Select(r => (float)r.Reward).ToArray();
        var advantages = new float[rows.Count];
        var critic = settings.Critic;
        var tokenAdvantages = settings.TokenAdvantages;
        if (tokenAdvantages is null)
            AdvantageEstimators.Compute(a.Advantage, scores, groupIds, advantages);
        else if (tokenAdvantages.Count != rows.Count || settings.TokenMask is { } m && m.Count != rows.Count)
            throw new ArgumentException($"token advantages and masks must have one row per rollout row ({rows.Count})");
        if (critic is not null && (critic.OldValues.Count != rows.Count || critic.Returns.Count != rows.Count))
            throw new ArgumentException($"the critic's values and returns must have one row per rollout row ({rows.Count})");

        var objective = new PolicyObjective(PolicyLosses.Create(a.Loss, a.LossOptions with { Seed = (int)(settings.Seed % int.MaxValue) }),
            new ObjectiveOptions
            {
                Aggregation = Aggregation.Parse(a.Aggregation), KlEstimator = a.KlEstimator, KlCoefficient = a.KlCoefficient,
                RolloutCorrection = settings.LearnerOldLogProbs is not null ? a.RolloutCorrection : new RolloutCorrectionOptions(),
            });
        // π_old per sequence: the shard's log-probs, or in replay the learner's own before any update
        var withRollout = settings.LearnerOldLogProbs is not null;
        if (withRollout && settings.LearnerOldLogProbs!.Count != rows.Count)
            throw new ArgumentException($"{settings.LearnerOldLogProbs.Count} learner log-prob rows for {rows.Count} rollout rows");
        var old = settings.LearnerOldLogProbs ?? [.. rows.Select(r => r.OldLogprobs)];
        var reference = settings.ReferenceLogProbs;
        if (a.KlCoefficient > 0 && (reference is null || reference.Count != rows.Count))
            throw new ArgumentException($"algorithm.kl_coef {a.KlCoefficient} needs the reference policy's log-probs for each of the {rows.Count} rows, got {reference?.Count ?? 0}");
        var o = settings.Optimizer;
        var schedule = new LearningRateSchedule(o.Schedule, o.LearningRate, o.WarmupSteps, settings.TotalSteps);
        // DAPO's group filter: groups whose rewards are all equal carry no advantage signal; drop them from the update
        var keep = new bool[rows.Count];
        Array.Fill(keep, true);
        var filterMetrics = new Dictionary<string, double>(StringComparer.Ordinal);
        if (a.FilterGroups)
        {
            var filter = GroupFilter.FilterUninformativeGroups(scores, groupIds, keep);
            filterMetrics["filter_groups/groups"] = filter.Groups;
            filterMetrics["filter_groups/dropped_groups"] = filter.Dropped;
            filterMetrics["filter_groups/dropped_all_solved"] = filter.SolvedAll;
            filterMetrics["filter_groups/dropped_none_solved"] = filter.SolvedNone;
            filterMetrics["filter_groups/kept_sequences"] = keep.Count(k => k);
        }
        // (a row whose token mask is all 0 — SPO: no uncertain token, or a zero-advantage tree node — has nothing to train)
        var trainable = Enumerable.Range(0, rows.Count).Where(i => keep[i] && rows[i].ResponseTokenIds.Length > 0
            && (settings.TokenMask is null || settings.TokenMask[i].Any(m => m != 0))).ToArray();
        var steps = new List<Dictionary<string, double>>();
        var total = a.PpoEpochs * ((trainable.Length + a.MiniBatch - 1) / a.MiniBatch);
        var inputs = new StepInputs(rows, old, reference, withRollout, advantages, tokenAdvantages, settings.TokenMask, critic);
        for (var epoch = 0; epoch < a.PpoEpochs; epoch++)
        {
            var order = Shuffle(trainable, settings.Seed, settings.Iteration, epoch);
            for (var start = 0; start < order.Length; start += a.MiniBatch)
            {
                var mini = order.AsSpan(start, Math.Min(a.MiniBatch, order.Length - start)).ToArray();
                steps.Add(Step(learner, objective, schedule, inputs, mini, a.MicroBatch, temperature, o.GradClip));
                foreach (var (name, value) in filterMetrics)
                    steps[^1][name] = value;
                onStep?.Invoke(steps.Count, total, steps[^1]);
            }
        }
        return steps;
    }

    /// <summary>The one sampling temperature of the stage's rows (log-probs are log_softmax(logits/T)).</summary>
    internal static float SingleTemperature(IReadOnlyList<RolloutRow> rows)
    {
        if (rows.Count == 0)
            throw new ArgumentException("the learn stage got no rollout rows");
        var temperature = rows[0].Temperature;
        var other = rows.FirstOrDefault(r => r.Temperature != temperature);
        if (other is not null)
            throw new ArgumentException($"rollout rows were sampled at temperatures {temperature} and {other.Temperature} (prompt {other.PromptUid}); one learn stage needs one temperature");
        return temperature;
    }

    /// <summary>Per row, its prompt group: 0, 1, … in order of each prompt's first row.</summary>
    internal static long[] GroupIds(IReadOnlyList<RolloutRow> rows)
    {
        var groups = new Dictionary<string, long>(StringComparer.Ordinal);
        return [.. rows.Select(r => groups.TryGetValue(r.PromptUid, out var g) ? g : groups[r.PromptUid] = groups.Count)];
    }

    /// <summary>Fisher–Yates over the sequence indices with a stream fixed by (seed, iteration, epoch).</summary>
    internal static int[] Shuffle(int[] items, ulong seed, int iteration, int epoch)
    {
        var order = (int[])items.Clone();
        var state = seed ^ (0xD1B54A32D192ED03UL * (ulong)(iteration + 1)) ^ (0x8CB92BA72F3D8DD7UL * (ulong)(epoch + 1));
        SplitMix64.Shuffle(order, ref state);
        return order;
    }

    /// <summary>What every step reads: the rows, π_old, the reference's and the rollout's log-probs, the per-sequence
    /// advantages (outcome estimators) or the critic (GAE advantages per token, values, returns and the value head).</summary>
    private sealed record StepInputs(IReadOnlyList<RolloutRow> Rows, IReadOnlyList<float[]> Old, IReadOnlyList<float[]>? Reference, bool WithRollout,
        float[] Advantages, IReadOnlyList<float[]>? TokenAdvantages, IReadOnlyList<float[]>? TokenMask, CriticInputs? Critic);

    /// <summary>One optimizer step over mini-batch <paramref name="mini"/>: the policy objective's coefficients per
    /// micro-batch, at the mini-batch's aggregation normalisers, through <see cref="TrainerStep"/>; with a critic, the
    /// value head's clipped loss (× vf_coef) back-propagates into the trunk too and the head takes its own AdamW step.</summary>
    private static Dictionary<string, double> Step(ILearner learner, PolicyObjective objective, LearningRateSchedule schedule,
        StepInputs inputs, int[] mini, int microBatch, float temperature, double gradClip)
    {
        var rows = inputs.Rows;
        var critic = inputs.Critic;
        // the mini-batch's normalisers: every micro-batch's gradient is scaled as part of the whole mini-batch
        var allOffsets = new int[mini.Length + 1];
        for (var k = 0; k < mini.Length; k++)
            allOffsets[k + 1] = allOffsets[k] + rows[mini[k]].ResponseTokenIds.Length;
        var allMask = Mask(inputs.TokenMask, mini, allOffsets[^1]);
        var scale = AggregationScale.Of(allMask, allOffsets);

        var micros = new List<int[]>();
        for (var m = 0; m < mini.Length; m += microBatch)
            micros.Add(mini.AsSpan(m, Math.Min(microBatch, mini.Length - m)).ToArray());
        var packed = micros.Select(micro => PackedSequences.Pack([.. micro.Select(i => (rows[i].PromptTokenIds, rows[i].ResponseTokenIds))])).ToArray();

        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        double loss = 0, entropySum = 0, valueLoss = 0;
        critic?.Head.ZeroGradients();
        var c = learner.Config.HiddenSize;
        var result = TrainerStep.Run(learner, packed, temperature, (k, logProbs, entropies, dLogProbs, _) =>
        {
            var batch = MicroBatch(inputs, micros[k], packed[k].ScoredOffsets, logProbs, entropies);
            var r = objective.Compute(batch, dLogProbs, scale);
            loss += r.Loss;
            foreach (var (name, value) in r.Metrics)
                sums[name] = sums.GetValueOrDefault(name) + value * entropies.Length;
            foreach (var h in entropies)
                entropySum += h;
        }, gradClip, schedule, trunkGradient: critic is null ? null : k =>
        {
            // V = head(h) on this micro-batch's scored rows; clipped value loss at the mini-batch's normalisers
            var n = packed[k].ScoredTokens;
            var hidden = new float[n * c];   // [S, C]
            learner.ScoredHidden(hidden);
            var values = new float[n];
            critic.Head.Values(hidden, values);
            var (oldValues, returns) = (Gather(micros[k], n, i => critic.OldValues[i]), Gather(micros[k], n, i => critic.Returns[i]));
            var dValues = new float[n];
            var v = ValueLoss.Compute(values, oldValues, returns, packed[k].ScoredOffsets, critic.ClipRange, objective.Options.Aggregation, dValues, scale);
            valueLoss += v.Loss;
            foreach (var (name, value) in v.Metrics().Where(m => m.Key != "critic/vf_loss"))
                sums[name] = sums.GetValueOrDefault(name) + value * n;
            for (var t = 0; t < n; t++)
                dValues[t] *= (float)critic.ValueCoefficient;
            var dHidden = new float[n * c];
            critic.Head.Backward(hidden, dValues, dHidden);
            return dHidden;
        });
        // metrics of the step: token-weighted means over its micro-batches; the loss is already the mini-batch's
        var tokens = Math.Max(result.Tokens, 1);
        var metrics = sums.ToDictionary(kv => kv.Key, kv => kv.Value / tokens, StringComparer.Ordinal);
        AddStepMetrics(metrics, loss, entropySum, result);
        if (critic is not null)
        {
            metrics["critic/vf_loss"] = valueLoss;
            metrics["critic/grad_norm"] = critic.Head.ClipGradients(gradClip);
            critic.Head.OptimizerUpdate(critic.LearningRate);
        }
        return metrics;
    }

    /// <summary>Every optimizer step's actor metrics: the step's loss, mean entropy over its scored tokens, gradient norm,
    /// learning rate and token count (verl's names).</summary>
    internal static void AddStepMetrics(Dictionary<string, double> metrics, double loss, double entropySum, TrainerStepResult step)
    {
        metrics[MetricNames.PgLoss] = loss;
        metrics[MetricNames.Entropy] = entropySum / Math.Max(step.Tokens, 1);
        metrics["actor/grad_norm"] = step.GradNorm;
        metrics["actor/lr"] = step.LearningRate;
        metrics["actor/tokens"] = step.Tokens;
    }

    /// <summary>The token mask of rows <paramref name="micro"/> [S]: the rows' masks, or 1 everywhere without them.</summary>
    private static float[] Mask(IReadOnlyList<float[]>? rowMask, int[] micro, int tokens)
    {
        if (rowMask is not null)
            return Gather(micro, tokens, i => rowMask[i]);
        var ones = new float[tokens];
        Array.Fill(ones, 1f);
        return ones;
    }

    /// <summary>Per-row values laid out like a micro-batch's scored tokens [S]: <paramref name="row"/>(i) for the rows
    /// <paramref name="micro"/>, one after another.</summary>
    private static float[] Gather(int[] micro, int tokens, Func<int, float[]> row)
    {
        var result = new float[tokens];
        var at = 0;
        foreach (var i in micro)
        {
            var values = row(i);
            values.CopyTo(result, at);
            at += values.Length;
        }
        return result;
    }

    /// <summary>The algorithm core's view of one micro-batch: per scored token the new and old log-probs, the sequence's
    /// advantage (or the token's own), the token mask (1 without one), the reference's and (replay) the rollout's log-probs.</summary>
    private static TokenBatch MicroBatch(StepInputs inputs, int[] micro, int[] scoredOffsets, ReadOnlySpan<float> logProbs, ReadOnlySpan<float> entropies)
    {
        var (rows, old, reference, withRollout, advantages, rowTokenAdvantages, rowMask, _) = inputs;
        var n = logProbs.Length;
        // per-row arrays laid out like the scored tokens [S]
        var oldLogProbs = Gather(micro, n, i => old[i]);
        var rolloutLogProbs = withRollout ? Gather(micro, n, i => rows[i].OldLogprobs) : [];
        var referenceLogProbs = reference is not null ? Gather(micro, n, i => reference[i]) : [];
        var mask = Mask(rowMask, micro, n);
        var tokenAdvantages = rowTokenAdvantages is not null ? Gather(micro, n, i => rowTokenAdvantages[i]) : new float[n];
        if (rowTokenAdvantages is null)
            AdvantageEstimators.BroadcastToTokens([.. micro.Select(i => advantages[i])], scoredOffsets, mask, tokenAdvantages);
        return new TokenBatch
        {
            LogProbs = logProbs, OldLogProbs = oldLogProbs, Advantages = tokenAdvantages, Mask = mask, SequenceOffsets = scoredOffsets,
            Entropies = entropies, RolloutLogProbs = rolloutLogProbs, RefLogProbs = referenceLogProbs,
        };
    }

    /// <summary>The learner's log-probs (current weights; each micro-batch at its first row's temperature — one learn
    /// stage has one, <see cref="Run"/> checks it) of every row's response tokens.</summary>
    public static float[][] Recompute(ILearner learner, IReadOnlyList<RolloutRow> rows, int microBatch) =>
        Recompute(learner, rows, microBatch, valueHead: null).LogProbs;

    /// <summary><see cref="Recompute(ILearner, IReadOnlyList{RolloutRow}, int)"/> and, in the same forward passes, the
    /// values <paramref name="valueHead"/> gives every response token (null without a head).</summary>
    public static (float[][] LogProbs, float[][]? Values) Recompute(ILearner learner, IReadOnlyList<RolloutRow> rows, int microBatch, ValueHead? valueHead)
    {
        var result = rows.Select(r => new float[r.ResponseTokenIds.Length]).ToArray();
        var values = valueHead is null ? null : rows.Select(r => new float[r.ResponseTokenIds.Length]).ToArray();
        var usable = Enumerable.Range(0, rows.Count).Where(i => rows[i].ResponseTokenIds.Length > 0).ToArray();
        for (var start = 0; start < usable.Length; start += microBatch)
        {
            var micro = usable.AsSpan(start, Math.Min(microBatch, usable.Length - start)).ToArray();
            var packed = PackedSequences.Pack([.. micro.Select(i => (rows[i].PromptTokenIds, rows[i].ResponseTokenIds))]);
            var logProbs = new float[packed.ScoredTokens];
            learner.Score(packed, rows[micro[0]].Temperature, logProbs, [], forTraining: false);
            var microValues = new float[values is null ? 0 : packed.ScoredTokens];
            if (valueHead is not null)
            {
                var hidden = new float[packed.ScoredTokens * learner.Config.HiddenSize]; // [S, C]
                learner.ScoredHidden(hidden);
                valueHead.Values(hidden, microValues);
            }
            var at = 0;
            foreach (var i in micro)
            {
                logProbs.AsSpan(at, result[i].Length).CopyTo(result[i]);
                if (values is not null)
                    microValues.AsSpan(at, result[i].Length).CopyTo(values[i]);
                at += result[i].Length;
            }
        }
        return (result, values);
    }

    /// <summary>
    /// SPO-chain's token advantages and probability masks for <paramref name="samples"/>: each sample's branch points
    /// (from its rollout log-probs) valued by the mean reward of the <paramref name="continuations"/> that start from
    /// the same prompt and prefix. A branch point without continuations is an error (shards sampled with other settings).
    /// </summary>
    public static (float[][] Advantages, float[][] Mask) SpoChainAdvantages(IReadOnlyList<RolloutRow> samples, IReadOnlyList<RolloutRow> continuations,
        double rho, int interval)
    {
        static string Key(string uid, ReadOnlySpan<int> prefix) => uid + "|" + string.Join(',', prefix.ToArray());
        var parents = samples.ToDictionary(r => (r.PromptUid, r.SampleIndex));
        var rewards = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        foreach (var c in continuations)
        {
            if (!parents.TryGetValue((c.PromptUid, c.ParentSample), out var parent) || c.BranchToken > parent.ResponseTokenIds.Length)
                throw new ArgumentException($"continuation {c.PromptUid}/{c.SampleIndex} names parent sample {c.ParentSample} at token {c.BranchToken}, which the shards do not hold");
            var key = Key(c.PromptUid, parent.ResponseTokenIds.AsSpan(0, c.BranchToken));
            if (!rewards.TryGetValue(key, out var list))
                rewards[key] = list = [];
            list.Add(c.Reward);
        }
        var advantages = new float[samples.Count][];
        var mask = new float[samples.Count][];
        for (var i = 0; i < samples.Count; i++)
        {
            var r = samples[i];
            var points = SpoChain.BranchPoints(r.OldLogprobs, rho, interval);
            var values = points.Select(b => rewards.TryGetValue(Key(r.PromptUid, r.ResponseTokenIds.AsSpan(0, b)), out var list)
                ? list.Average()
                : throw new ArgumentException($"sample {r.PromptUid}/{r.SampleIndex}: no continuations from its branch point at token {b}; were the shards sampled with other algorithm.spo_* settings?")).ToArray();
            advantages[i] = new float[r.ResponseTokenIds.Length];
            mask[i] = new float[r.ResponseTokenIds.Length];
            SpoChain.TokenAdvantages(r.OldLogprobs, points, values, r.Reward, rho, advantages[i], mask[i]);
        }
        return (advantages, mask);
    }

    /// <summary>
    /// SPO-tree's training rows from the tree nodes of the shards (<see cref="RolloutStage.RunTree"/>): per node a row
    /// whose context (prompt token ids) is the prompt plus its ancestors' segments and whose response is its own
    /// segment, with the node's advantage V(node) − V(parent) under the probability mask (all 0 when the advantage is 0).
    /// </summary>
    public static (List<RolloutRow> Rows, float[][] Advantages, float[][] Mask) SpoTreeRows(IReadOnlyList<RolloutRow> nodes, double rho)
    {
        var rows = new List<RolloutRow>(nodes.Count);
        var advantages = new List<float[]>(nodes.Count);
        var masks = new List<float[]>(nodes.Count);
        foreach (var tree in nodes.GroupBy(r => r.PromptUid))
        {
            var ordered = tree.OrderBy(r => r.SampleIndex).ToArray();
            var index = ordered.Select((r, i) => (r.SampleIndex, i)).ToDictionary(x => x.SampleIndex, x => x.i);
            var parents = ordered.Select(r => r.ParentSample < 0 ? -1
                : index.TryGetValue(r.ParentSample, out var i) ? i
                : throw new ArgumentException($"tree node {r.PromptUid}/{r.SampleIndex} names parent {r.ParentSample}, which the shards do not hold")).ToArray();
            var (_, nodeAdvantages, _) = SpoTree.NodeAdvantages(parents, [.. ordered.Select(r => r.Reward)]);
            var contexts = new int[ordered.Length][];
            for (var i = 0; i < ordered.Length; i++)
            {
                var r = ordered[i];
                contexts[i] = parents[i] < 0 ? r.PromptTokenIds : [.. contexts[parents[i]], .. ordered[parents[i]].ResponseTokenIds];
                var a = new float[r.ResponseTokenIds.Length];
                var m = new float[r.ResponseTokenIds.Length];
                SpoTree.TokenAdvantages(r.OldLogprobs, nodeAdvantages[i], rho, a, m);
                rows.Add(r with { PromptTokenIds = contexts[i] });
                advantages.Add(a);
                masks.Add(m);
            }
        }
        return (rows, [.. advantages], [.. masks]);
    }

    /// <summary>
    /// GAE over the rows (the outcome reward on each response's last token, 0 elsewhere), whitened over all response
    /// tokens when <paramref name="whiten"/>; per row its advantages and returns.
    /// </summary>
    public static (float[][] Advantages, float[][] Returns) GaeAdvantages(IReadOnlyList<RolloutRow> rows, IReadOnlyList<float[]> values, double gamma, double lambda, bool whiten)
    {
        var offsets = new int[rows.Count + 1];
        for (var i = 0; i < rows.Count; i++)
            offsets[i + 1] = offsets[i] + rows[i].ResponseTokenIds.Length;
        var n = offsets[^1];
        var rewards = new float[n];
        var flatValues = new float[n];
        for (var i = 0; i < rows.Count; i++)
        {
            if (offsets[i + 1] > offsets[i])
                rewards[offsets[i + 1] - 1] = (float)rows[i].Reward;
            values[i].CopyTo(flatValues, offsets[i]);
        }
        var advantages = new float[n];
        var returns = new float[n];
        Gae.Compute(rewards, flatValues, offsets, gamma, lambda, advantages, returns);
        if (whiten)
            Gae.Whiten(advantages);
        return ([.. rows.Select((_, i) => advantages[offsets[i]..offsets[i + 1]])], [.. rows.Select((_, i) => returns[offsets[i]..offsets[i + 1]])]);
    }

    /// <summary>
    /// Log-prob agreement of the learner's log-probs (<see cref="Recompute"/>) with the shard's old log-probs, per token:
    /// mean |Δ|, max |Δ|, fraction over 1e-3.
    /// </summary>
    public static (double Mean, double Max, double FractionOver1e3) Mismatch(IReadOnlyList<float[]> learner, IReadOnlyList<RolloutRow> rows)
    {
        double sum = 0, max = 0;
        long count = 0, over = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            for (var t = 0; t < learner[i].Length; t++)
            {
                var d = Math.Abs(learner[i][t] - rows[i].OldLogprobs[t]);
                sum += d;
                max = Math.Max(max, d);
                count++;
                if (d > 1e-3)
                    over++;
            }
        }
        return count == 0 ? (0, 0, 0) : (sum / count, max, (double)over / count);
    }
}
