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
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
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
