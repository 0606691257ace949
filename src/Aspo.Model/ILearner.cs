namespace Aspo.Model;

/// <summary>
/// The learner seam: everything RL training, SFT and log-prob scoring need from a policy model. A batch is a set of
/// packed prompt + response sequences; the learner scores the response tokens (log π = log_softmax(z/T)[token] and the
/// entropy of softmax(z/T), z the logits at the previous position), and back-propagates per-token coefficients
/// ∂L/∂logπ and ∂L/∂H — the contract <c>Aspo.Algorithms</c> produces, so losses are defined in one place only.
/// Parameters follow <see cref="ParameterLayout"/>; checkpoints are Hugging Face folders and the optimizer state is
/// <c>optimizer.safetensors</c> (m, v, step), the same files for every backend, so one backend resumes the other's run.
/// </summary>
public interface ILearner : IDisposable
{
    ModelConfig Config { get; }

    /// <summary>What runs: backend, precision, device.</summary>
    LearnerOptions Options { get; }

    /// <summary>AdamW steps taken (restored by <see cref="LoadOptimizer"/>).</summary>
    long OptimizerStep { get; }

    /// <summary>
    /// Scores the response tokens of <paramref name="batch"/> at <paramref name="temperature"/> into
    /// <paramref name="logProbs"/> and <paramref name="entropies"/> (each [S], S = batch.ScoredTokens; entropies may be
    /// empty). With <paramref name="forTraining"/> what <see cref="Backward"/> needs is kept until it runs.
    /// </summary>
    void Score(PackedSequences batch, float temperature, Span<float> logProbs, Span<float> entropies, bool forTraining);

    /// <summary>Adds to the gradients the backward of Σ c·logπ + Σ e·H for the last training <see cref="Score"/>
    /// (<paramref name="dEntropies"/> may be empty).</summary>
    void Backward(ReadOnlySpan<float> dLogProbs, ReadOnlySpan<float> dEntropies);

    /// <summary>The final hidden state at the position before each scored token of the last <see cref="Score"/>, [S, C]
    /// (what a value head on the trunk reads). Backends without it throw <see cref="NotSupportedException"/>.</summary>
    void ScoredHidden(Span<float> hidden) =>
        throw new NotSupportedException($"learner backend {Options.Backend} cannot read the trunk's hidden states (a value head needs learner.backend native)");

    /// <summary><see cref="Backward(ReadOnlySpan{float}, ReadOnlySpan{float})"/> plus ∂L/∂(<see cref="ScoredHidden"/>) [S, C].</summary>
    void Backward(ReadOnlySpan<float> dLogProbs, ReadOnlySpan<float> dEntropies, ReadOnlySpan<float> dScoredHidden) =>
        throw new NotSupportedException($"learner backend {Options.Backend} cannot back-propagate into the trunk's hidden states (a value head needs learner.backend native)");

    void ZeroGradients();

    /// <summary>Scales the gradients so their global L2 norm is at most <paramref name="maxNorm"/> (0 = measure only);
    /// returns the norm before clipping.</summary>
    double ClipGradients(double maxNorm);

    /// <summary>One AdamW update at learning rate <paramref name="lr"/>.</summary>
    void OptimizerUpdate(double lr);

    /// <summary>A copy of the parameters as one fp32 slab in <see cref="ParameterLayout"/> order.</summary>
    float[] ReadParameters();

    /// <summary>A copy of the accumulated gradients as one fp32 slab in <see cref="ParameterLayout"/> order.</summary>
    float[] ReadGradients();

    /// <summary>The first tensor (in layout order) whose parameters — or, with <paramref name="gradients"/>, gradients —
    /// hold a NaN or ±∞, or null when all are finite.</summary>
    string? FirstNonFiniteTensor(bool gradients);

    /// <summary>Writes config.json and model.safetensors into <paramref name="folder"/>.</summary>
    void SaveCheckpoint(string folder);

    void SaveOptimizer(string path);

    void LoadOptimizer(string path);
}
