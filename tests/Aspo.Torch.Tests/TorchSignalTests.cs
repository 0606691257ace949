using System.Runtime.InteropServices;
using Aspo.Model;
using Aspo.Native;

namespace Aspo.Torch.Tests;

[CollectionDefinition(nameof(TorchSignalTests), DisableParallelization = true)]
public sealed class TorchSignalCollection;

/// <summary>
/// Debian's oneDNN 2.6 corrupted the heap when a signal reached a thread inside its JIT GEMM kernels (oneDNN #4845; the
/// native learner blocks signals around each call, see ThreadSignals). LibTorch 2.10 bundles its own oneDNN 3.7.1 for
/// bf16 matmuls and OpenMP threads of its own, which the native learner's masks do not cover: signals are aimed at every
/// thread of the test host while bf16 training steps run. (It survived 2 × 300 steps here, and 300 steps at 4× the
/// sizes; a LibTorch upgrade that brought the bug back would abort this test's host.)
/// </summary>
[Collection(nameof(TorchSignalTests))]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TorchSignalTests
{
    private const int SigWinch = 28;

    [Fact]
    public void Bf16_training_steps_survive_signals_aimed_at_every_thread()
    {
        var handled = 0;
        using var registration = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context =>
        {
            Interlocked.Increment(ref handled);
            context.Cancel = true;
        });
        var config = new ModelConfig
        {
            Family = ModelFamily.Qwen2, HiddenSize = 256, IntermediateSize = 512, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 64,
            VocabSize = 1000, TieWordEmbeddings = true, MaxPositionEmbeddings = 256, EosTokenIds = [0],
        };
        using var learner = new TorchLearner(config, ModelInit.Random(config, 1),
            new LearnerOptions { Backend = LearnerBackend.Torch, Precision = LearnerPrecision.Bf16 });
        var rng = new Random(2);
        var batches = Enumerable.Range(0, 6).Select(i => PackedSequences.Pack([.. Enumerable.Range(0, 1 + i % 3).Select(_ =>
            (Enumerable.Range(0, 3 + i).Select(_ => rng.Next(1000)).ToArray(), Enumerable.Range(0, 5 + 7 * i).Select(_ => rng.Next(1000)).ToArray()))])).ToArray();
        var schedule = new LearningRateSchedule("constant", 1e-4);
        var stop = 0;
        long sent = 0;
        var sender = new Thread(() =>
        {
            while (Volatile.Read(ref stop) == 0)
                foreach (var tid in ThreadSignals.ThreadIds())
                    if (ThreadSignals.SendToThread(tid, SigWinch))
                        sent++;
        });
        sender.Start();
        try
        {
            for (var step = 0; step < 300; step++)
            {
                var batch = batches[step % batches.Length];
                TrainerStep.Run(learner, [batch], 1f, (_, _, _, d, _) => d.Fill(-1f / d.Length), 1.0, schedule);
                var blocks = Enumerable.Range(0, 16).Select(j => Marshal.AllocHGlobal(64 + 37 * j)).ToArray(); // malloc traffic
                foreach (var block in blocks)
                    Marshal.FreeHGlobal(block);
            }
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            sender.Join();
        }
        Assert.Equal(300, learner.OptimizerStep);
        Assert.True(sent > 1_000, $"only {sent} signals were sent");
    }
}
