using Aspo.Model;
using Aspo.Torch;

namespace Aspo.Pipeline;

/// <summary>Builds the learner a configuration asks for: the native learner or the torch learner.</summary>
public static class Learners
{
    public static ILearner Create(ModelConfig config, float[] parameters, LearnerOptions options) => options.Backend switch
    {
        LearnerBackend.Native => new NativeLearner(config, parameters, options),
        LearnerBackend.Torch => new TorchLearner(config, parameters, options),
        _ => throw new ArgumentException($"unknown learner backend {options.Backend}"),
    };

    /// <summary>The checkpoint in <paramref name="folder"/> as a learner (and, if the folder has one, its optimizer state).</summary>
    public static ILearner Load(string folder, LearnerOptions options, bool withOptimizerState = true)
    {
        var (config, parameters) = Checkpoint.Load(folder);
        var learner = Create(config, parameters, options);
        var optimizerFile = Path.Combine(folder, OptimizerFile);
        if (withOptimizerState && File.Exists(optimizerFile))
            learner.LoadOptimizer(optimizerFile);
        return learner;
    }

    /// <summary>The optimizer state's file in a policy folder.</summary>
    public const string OptimizerFile = "optimizer.safetensors";
}
