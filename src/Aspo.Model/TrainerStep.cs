namespace Aspo.Model;

/// <summary>
/// One optimizer step, the same for RL and SFT on every backend: zero the gradients; per micro-batch score → coefficients
/// → backward (gradients accumulate); clip the global norm; AdamW at the schedule's rate for the learner's step count.
/// </summary>
public static class TrainerStep
{
    /// <param name="trunkGradient">optional, per micro-batch after its coefficients: ∂L/∂(scored hidden states) [S, C]
    /// of a head on the trunk (a value head), back-propagated with the log-prob coefficients</param>
    public static TrainerStepResult Run(ILearner learner, IReadOnlyList<PackedSequences> microBatches, float temperature,
        MicroBatchCoefficients coefficients, double gradClip, LearningRateSchedule schedule, bool entropyGradients = false,
        Func<int, float[]>? trunkGradient = null)
    {
        learner.ZeroGradients();
        var tokens = 0;
        for (var k = 0; k < microBatches.Count; k++)
        {
            var batch = microBatches[k];
            var n = batch.ScoredTokens;
            var logProbs = new float[n];   // [S] of this micro-batch
            var entropies = new float[n];
            learner.Score(batch, temperature, logProbs, entropies, forTraining: true);
            var dLogProbs = new float[n];
            var dEntropies = entropyGradients ? new float[n] : [];
            coefficients(k, logProbs, entropies, dLogProbs, dEntropies);
            if (trunkGradient is null)
                learner.Backward(dLogProbs, dEntropies);
            else
                learner.Backward(dLogProbs, dEntropies, trunkGradient(k));
            tokens += n;
        }
        var gradNorm = learner.ClipGradients(gradClip);
        var step = learner.OptimizerStep + 1;
        // a non-finite gradient stops the step before it touches the weights; the norm is finite exactly when all are
        if (!double.IsFinite(gradNorm))
            throw new TrainingDivergedException($"optimizer step {step}: the gradient of tensor {learner.FirstNonFiniteTensor(gradients: true) ?? "?"} is not finite (NaN or ∞)");
        var lr = schedule.At((int)learner.OptimizerStep);
        learner.OptimizerUpdate(lr);
        if (learner.FirstNonFiniteTensor(gradients: false) is { } tensor)
            throw new TrainingDivergedException($"optimizer step {step} (lr {lr:G3}): tensor {tensor} is no longer finite (NaN or ∞)");
        return new TrainerStepResult(gradNorm, lr, tokens);
    }
}
