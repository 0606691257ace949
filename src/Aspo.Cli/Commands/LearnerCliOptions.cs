using System.CommandLine;
using Aspo.Model;

namespace Aspo.Cli.Commands;

/// <summary>--learner, --device and --dtype: the learner seam's choices on the commands that train or score with it.</summary>
internal sealed class LearnerCliOptions
{
    public Option<string> Backend { get; } = new("--learner")
    {
        Description = $"Learner backend: {string.Join(" | ", LearnerOptions.BackendNames)} (torch = TorchSharp/LibTorch).", DefaultValueFactory = _ => "native",
    };

    public Option<string> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N (cuda needs --learner torch and a CUDA build).", DefaultValueFactory = _ => "cpu" };

    public Option<string> Dtype { get; } = new("--dtype") { Description = "GEMM precision: fp32 | bf16 (master weights and log-softmax stay fp32).", DefaultValueFactory = _ => "fp32" };

    public void AddTo(Command command)
    {
        command.Options.Add(Backend);
        command.Options.Add(Device);
        command.Options.Add(Dtype);
    }

    public LearnerOptions Read(ParseResult parse, AdamWOptions? optimizer = null)
    {
        var device = parse.GetValue(Device)!;
        if (!LearnerOptions.IsValidDevice(device))
            throw new ArgumentException($"--device '{device}': expected cpu, cuda or cuda:N");
        return new LearnerOptions
        {
            Backend = LearnerOptions.ParseBackend(parse.GetValue(Backend)!), Device = device,
            Precision = LearnerOptions.ParsePrecision(parse.GetValue(Dtype)!), Optimizer = optimizer ?? new AdamWOptions(),
        };
    }
}
