using Aspo.Model;
using Aspo.Native.Files;
using Aspo.Onnx;

namespace Aspo.Pipeline;

/// <summary>Stage export of iteration i: policy i−1 → iter-i/onnx (fp32, or int4 projections with rollout.int4; with the sampling head when rollout.sampler uses it).</summary>
public static class ExportStep
{
    public static void Run(RunContext run, int iteration)
    {
        run.RequireIteration(iteration);
        var policy = run.Directory.PolicyFolder(iteration - 1);
        var (config, parameters) = Checkpoint.Load(policy);
        Directory.CreateDirectory(run.Directory.IterationFolder(iteration));
        AtomicFile.ReplaceFolder(run.Directory.OnnxFolder(iteration), folder =>
            DecoderExporter.Export(config, parameters, folder, policy, new ExportOptions { Int4 = run.Config.Rollout.Int4, SamplingHead = run.Config.Rollout.UsesSamplingHead }));
    }
}
