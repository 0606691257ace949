using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Aspo.Bench;

/// <summary>
/// <c>tools/bench/run gemm</c> runs the GEMM suite and prints a side-by-side table (median ms, GFLOP/s,
/// ratio to OpenBLAS fp32). Any other arguments go to BenchmarkDotNet's switcher (e.g. <c>--list flat</c>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["gemm", ..])
        {
            var summaries = new[] { BenchmarkRunner.Run<GemmBenchmarks>(), BenchmarkRunner.Run<ReferenceGemmBenchmarks>() };
            PrintGemmTable(summaries);
            return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
        }
        if (args is ["rollout-int4", ..])
            return Int4RolloutBench.Run(args);
        if (args is ["rollout", ..])
            return RolloutBench.Run(args);
        if (args is ["rewards", ..])
            return RewardsBench.Run();
        if (args is ["data", ..])
            return DataBench.Run();
        if (args is ["iteration-single", _, ..])
            return IterationBench.RunSingle(args);
        if (args is ["iteration", ..])
            return IterationBench.Run(args);
        if (args is ["learner", ..])
            return LearnerBench.Run(args);
        if (args is ["learner-step", _, _, _])
            return LearnerBench.Step(args);
        if (args is ["algorithms", ..])
        {
            var summary = BenchmarkRunner.Run<AlgorithmsBenchmarks>();
            PrintAlgorithmsTable(summary);
            return summary.HasCriticalValidationErrors || summary.Reports.Any(r => !r.Success) ? 1 : 0;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }

    /// <summary>
    /// Loss + advantages time against a lower bound of a learner step on the same tokens: forward + backward of a
    /// decoder costs at least 6·P FLOP per token (P parameters), here at the oneDNN fp32 GEMM peak measured now.
    /// A real step is slower than the bound, so the shares printed are upper bounds.
    /// </summary>
    private static void PrintAlgorithmsTable(Summary summary)
    {
        var median = summary.Reports.Where(r => r.ResultStatistics is not null)
            .ToDictionary(r => r.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\''), r => r.ResultStatistics!.Median);
        var coreNs = median["aspo objective"] + median["grpo advantages"];
        var peak = GemmPeak.Measure();
        Console.WriteLine();
        Console.WriteLine($"Algorithm core on {AlgorithmsBenchmarks.Tokens:N0} token slots ({AlgorithmsBenchmarks.Sequences} responses × {AlgorithmsBenchmarks.Width}), 1 thread, medians");
        Console.WriteLine();
        Console.WriteLine("| step | median ms | tokens/s |");
        Console.WriteLine("| --- | ---: | ---: |");
        foreach (var (name, ns) in median)
            Console.WriteLine(FormattableString.Invariant($"| {name} | {ns / 1e6:F1} | {AlgorithmsBenchmarks.Tokens / (ns / 1e9) / 1e6:F1} M |"));
        Console.WriteLine(FormattableString.Invariant($"| aspo objective + grpo advantages | {coreNs / 1e6:F1} | {AlgorithmsBenchmarks.Tokens / (coreNs / 1e9) / 1e6:F1} M |"));
        Console.WriteLine();
        Console.WriteLine(FormattableString.Invariant($"Learner step lower bound = 6·P·N FLOP at the measured oneDNN fp32 peak of {peak:F0} GFLOP/s:"));
        Console.WriteLine();
        Console.WriteLine("| model | parameters P | learner step ≥ (s) | loss + advantages share ≤ |");
        Console.WriteLine("| --- | ---: | ---: | ---: |");
        foreach (var (model, parameters) in new[] { ("tiny (issue #4 benchmark a)", 2e6), ("Qwen2.5-0.5B shapes", 494e6) })
        {
            var stepSeconds = 6 * parameters * AlgorithmsBenchmarks.Tokens / (peak * 1e9);
            Console.WriteLine(FormattableString.Invariant($"| {model} | {parameters:G3} | {stepSeconds:F1} | {coreNs / 1e9 / stepSeconds * 100:F3} % |"));
        }
    }

    private static void PrintGemmTable(IEnumerable<Summary> summaries)
    {
        var rows = summaries.SelectMany(s => s.Reports)
            .Where(r => r.ResultStatistics is not null)
            .Select(r => (Backend: r.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\''),
                          Shape: (string)r.BenchmarkCase.Parameters["Shape"],
                          MedianNs: r.ResultStatistics!.Median))
            .ToList();
        Console.WriteLine();
        Console.WriteLine($"GEMM, row-major C = A·B, m×n×k, {Environment.ProcessorCount} cores, medians");
        Console.WriteLine();
        Console.WriteLine("| backend | m×n×k | median ms | GFLOP/s | vs openblas fp32 |");
        Console.WriteLine("| --- | --- | ---: | ---: | ---: |");
        foreach (var shape in rows.Select(r => r.Shape).Distinct())
        {
            var baseline = rows.First(r => r.Shape == shape && r.Backend == "openblas fp32").MedianNs;
            foreach (var r in rows.Where(r => r.Shape == shape))
                Console.WriteLine(FormattableString.Invariant(
                    $"| {r.Backend} | {shape.Replace('x', '×')} | {r.MedianNs / 1e6:F2} | {BenchShapes.Flops(shape) / r.MedianNs:F1} | {baseline / r.MedianNs:F2}× |"));
        }
    }
}
