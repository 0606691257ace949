using System.Text.Json.Nodes;
using Aspo.Data;
using Aspo.Data.Tokenization;
using Aspo.Model;

namespace Aspo.Pipeline;

/// <summary>
/// Supervised warm start through the learner: cross-entropy (mean −log π over every target token of the batch) on
/// worked solutions, back-propagated through the same path as the RL losses, AdamW with linear warm-up then cosine
/// decay, seeded shuffles per epoch.
/// </summary>
public static class SftStage
{
    /// <summary>
    /// The examples of a prompt dataset whose extra_info carries the target (verl layout; the synthetic task writes
    /// extra_info.solution): the prompt rendered with the chat template's generation prompt, the target + EOS.
    /// </summary>
    public static IReadOnlyList<SftExample> Examples(IReadOnlyList<PromptRecord> records, BpeTokenizer tokenizer, ChatTemplate template, int eosToken,
                                                     string targetField = "solution")
    {
        var examples = new List<SftExample>(records.Count);
        foreach (var r in records)
        {
            var extra = JsonNode.Parse(r.ExtraInfoJson) as JsonObject;
            var target = extra?[targetField] is JsonValue v && v.TryGetValue<string>(out var s) ? s
                : throw new ArgumentException($"row {r.Row}: extra_info has no string field \"{targetField}\" (the SFT target)");
            examples.Add(new SftExample(tokenizer.Encode(template.Render(r.Prompt, addGenerationPrompt: true)), [.. tokenizer.Encode(target), eosToken]));
        }
        return examples;
    }

    /// <param name="onStep">(step, steps in all, metrics) after each optimizer step.</param>
    public static IReadOnlyList<Dictionary<string, double>> Run(ILearner learner, IReadOnlyList<SftExample> examples, SftSettings s,
        Action<int, int, Dictionary<string, double>>? onStep = null)
    {
        s.Validate();
        if (examples.Count == 0)
            throw new ArgumentException("sft got no examples");
        var stepsPerEpoch = (examples.Count + s.BatchSize - 1) / s.BatchSize;
        var total = s.Epochs * stepsPerEpoch;
        var schedule = new LearningRateSchedule("cosine", s.LearningRate, s.WarmupSteps, total, MinLearningRateRatio: 0.1);
        var steps = new List<Dictionary<string, double>>();
        var order = Enumerable.Range(0, examples.Count).ToArray();
        for (var epoch = 0; epoch < s.Epochs; epoch++)
        {
            var state = s.Seed ^ (0x9E3779B97F4A7C15UL * (ulong)(epoch + 1));
            SplitMix64.Shuffle(order, ref state);
            for (var start = 0; start < order.Length; start += s.BatchSize)
            {
                var batch = order.AsSpan(start, Math.Min(s.BatchSize, order.Length - start)).ToArray();
                var targets = batch.Sum(i => examples[i].Response.Length);
                var micros = new List<PackedSequences>();
                for (var m = 0; m < batch.Length; m += s.MicroBatch)
                    micros.Add(PackedSequences.Pack([.. batch.AsSpan(m, Math.Min(s.MicroBatch, batch.Length - m)).ToArray().Select(i => (examples[i].Prompt, examples[i].Response))]));
                double nll = 0;
                // ∂(−Σ logπ / targets of the whole batch)/∂logπ_t: micro-batches add up to the batch's mean
                var result = TrainerStep.Run(learner, micros, 1f, (_, logProbs, _, dLogProbs, _) =>
                {
                    nll += CrossEntropyObjective.NegativeLogLikelihood(logProbs);
                    CrossEntropyObjective.Coefficients(dLogProbs, targets);
                }, s.GradClip, schedule);
                var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
                {
                    ["sft/loss"] = nll / targets, ["sft/grad_norm"] = result.GradNorm, ["sft/lr"] = result.LearningRate, ["sft/tokens"] = targets, ["sft/epoch"] = epoch,
                };
                steps.Add(metrics);
                onStep?.Invoke(steps.Count, total, metrics);
            }
        }
        return steps;
    }
}
