using Aspo.Model;
using Aspo.Native;
using Aspo.Pipeline;

namespace Aspo.Torch.Tests;

/// <summary>LibTorch's loading, devices, memory over many steps and bf16 GEMMs in the torch learner.</summary>
public sealed class TorchRuntimeTests
{
    [Fact]
    public void LibTorch_reports_its_version_and_build_configuration()
    {
        Assert.StartsWith("2.10", TorchRuntime.Version);
        var description = TorchRuntime.Describe();
        Assert.Contains("LibTorch 2.10", description);
        Assert.Contains("cpu build", description);
        var config = LibTorchNative.ShowConfig(); // at::show_config() through its C++ ABI
        Assert.Contains("PyTorch built with", config);
        Assert.Contains("MKL", config);
    }

    [Fact]
    public void A_cuda_device_on_the_cpu_build_is_one_error_naming_the_build_property()
    {
        var config = TinyConfig();
        var e = Assert.Throws<ArgumentException>(() => new TorchLearner(config, ModelInit.Random(config, 1),
            new LearnerOptions { Backend = LearnerBackend.Torch, Device = "cuda:0" }));
        Assert.Contains("-p:TorchBackend=cuda", e.Message);
        Assert.Contains("TorchSharp-cuda-linux 0.107.0", e.Message);
        Assert.Contains("learner.device 'cuda:0'", e.Message);
    }

    private static ModelConfig TinyConfig(int hidden = 32, int layers = 1, int vocab = 300) => new()
    {
        Family = ModelFamily.Qwen2, HiddenSize = hidden, IntermediateSize = 2 * hidden, NumLayers = layers, NumHeads = 2, NumKvHeads = 1,
        HeadDim = hidden / 2, VocabSize = vocab, TieWordEmbeddings = true, MaxPositionEmbeddings = 256, EosTokenIds = [0],
    };

    private static long ResidentBytes() => long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]) * Environment.SystemPageSize;

    /// <summary>
    /// Native tensor memory is freed only when a handle is disposed (the .NET GC rarely runs on its own): stock
    /// torch.optim.AdamW left one parameter-sized tensor per step to the finaliser and grew a process by P·4 bytes per
    /// step. Over twenty training steps of a 38M-parameter model (152 MB per parameter-sized tensor, small activations)
    /// no TorchSharp tensor handle may be left alive and resident memory may not trend up (the last steps within two such
    /// tensors of the start, where the leak adds twenty), with no GC forced. (glibc's allocator alone moves resident memory
    /// by tens of MB — once by 150.6 MB at a peak — from step to step; it does not trend.)
    /// </summary>
    [Fact]
    public void Resident_memory_stays_flat_over_twenty_training_steps()
    {
        var config = TinyConfig(hidden: 512, layers: 2, vocab: 64000);
        var parameters = ModelInit.Random(config, 2);
        var tensorBytes = parameters.LongLength * 4;
        using var learner = new TorchLearner(config, parameters, new LearnerOptions { Backend = LearnerBackend.Torch });
        var rng = new Random(4);
        var batch = PackedSequences.Pack([.. Enumerable.Range(0, 2).Select(_ =>
            (Enumerable.Range(0, 10).Select(_ => rng.Next(config.VocabSize)).ToArray(), Enumerable.Range(0, 30).Select(_ => rng.Next(config.VocabSize)).ToArray()))]);
        var schedule = new LearningRateSchedule("constant", 1e-4);
        void Step() => TrainerStep.Run(learner, [batch, batch], 1f, (_, _, _, d, _) => d.Fill(-1f / 120), 1.0, schedule);
        for (var i = 0; i < 5; i++)
            Step(); // allocator and thread pools warm
        var liveBefore = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var before = ResidentBytes();
        var after = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            Step();
            after.Add(ResidentBytes());
        }
        Assert.Equal(25, learner.OptimizerStep);
        Assert.Equal(liveBefore, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        // the leak this guards against adds one tensor per step (20 over the loop); the allocator's step-to-step noise
        // (a step's temporaries still resident when sampled) stays within about one, so the last five samples' mean may
        // not exceed the start by two
        var growth = after.TakeLast(5).Average() - before;
        Assert.True(growth < 2 * tensorBytes,
            $"resident memory grew by {growth / 1e6:F1} MB over 20 steps (one parameter-sized tensor is {tensorBytes / 1e6:F1} MB; samples {string.Join(", ", after.Select(a => ((a - before) / 1e6).ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))} MB)");
    }

    /// <summary>
    /// bf16 GEMMs (fp32 master weights, fp32 log-softmax): log-probs within the bf16 rounding budget of fp32's, and the
    /// gradient pointing the same way (cosine similarity per tensor, bf16 inputs carry 8 significant bits).
    /// </summary>
    [Fact]
    public void Bf16_gemms_stay_within_the_bf16_budget_of_fp32()
    {
        var (config, parameters) = Checkpoint.Load(Path.Combine(AppContext.BaseDirectory, "Fixtures", "qwen3"));
        var f = new Aspo.Model.Tests.ModelFixture("qwen3");
        var coefficients = f.Floats("coef_logprobs");
        var results = new List<(float[] Lp, float[] Grad)>();
        foreach (var precision in new[] { LearnerPrecision.Fp32, LearnerPrecision.Bf16 })
        {
            using var learner = Learners.Create(config, (float[])parameters.Clone(), new LearnerOptions { Backend = LearnerBackend.Torch, Precision = precision });
            var lp = new float[coefficients.Length];
            learner.Score(f.Batch, 1f, lp, [], forTraining: true);
            learner.Backward(coefficients, []);
            results.Add((lp, learner.ReadGradients()));
        }
        var dLp = results[0].Lp.Zip(results[1].Lp, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(dLp is > 0 and < 0.05f, $"bf16 vs fp32 max |Δ logπ| = {dLp:G3}");
        foreach (var t in new ParameterLayout(config).Tensors)
        {
            double dot = 0, na = 0, nb = 0;
            for (var i = t.Offset; i < t.Offset + t.Count; i++)
            {
                double a = results[0].Grad[i], b = results[1].Grad[i];
                dot += a * b;
                na += a * a;
                nb += b * b;
            }
            var cosine = dot / Math.Sqrt(na * nb + 1e-300);
            Assert.True(na == 0 || cosine > 0.99, $"{t.Name}: bf16 vs fp32 gradient cosine {cosine:F4}");
        }
    }
}
