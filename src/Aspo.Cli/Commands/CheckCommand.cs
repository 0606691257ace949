using System.CommandLine;
using System.Diagnostics;
using Aspo.Model;
using Aspo.Native.Blas;
using Aspo.Data.Shards;
using Aspo.Onnx;
using Aspo.Onnx.Proto;

namespace Aspo.Cli.Commands;

/// <summary>
/// <c>aspo check</c>: proves the installation works end to end — prints the runtime versions, runs a tiny
/// ONNX model through ONNX Runtime against a managed computation, writes a rollout shard with Parquet.Net and reads it
/// back with DuckDB,
/// and checks the GEMM backend against the managed reference.
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var threads = new Option<int>("--threads") { Description = "Threads for ONNX Runtime (0 = its default).", DefaultValueFactory = _ => 0 };
        var command = new Command("check", "Check the installation: runtime versions, a tiny ONNX model, a Parquet round trip and a GEMM.")
        {
            threads,
        };
        command.SetAction(parse => CommandRunner.Run(() => Run(parse.GetValue(threads), Console.Out)));
        return command;
    }

    internal static int Run(int threads, TextWriter output)
    {
        if (threads < 0)
            throw new ArgumentException($"--threads must be 0 or more, got {threads}");
        if (VersionCommand.Print(output) != 0)
            return 1;
        output.WriteLine();
        var failures = 0;
        failures += Report(output, "onnx model", () => CheckOnnx(threads));
        failures += Report(output, "parquet", CheckParquet);
        failures += Report(output, "gemm", CheckGemm);
        failures += Report(output, "torch learner", CheckTorchLearner);
        output.WriteLine(failures == 0 ? "all checks passed" : $"{failures} check(s) FAILED");
        return failures == 0 ? 0 : 1;
    }

    private static int Report(TextWriter output, string label, Func<(bool Ok, string Detail)> check)
    {
        var (ok, detail) = check();
        output.WriteLine($"{label,-14}{(ok ? "ok  " : "FAIL")}  {detail}");
        return ok ? 0 : 1;
    }

    /// <summary>Y = X·W + B with random weights, run by ONNX Runtime and recomputed in double.</summary>
    private static (bool, string) CheckOnnx(int threads)
    {
        const int batch = 4, inDim = 16, outDim = 8;
        var rng = new Random(2026);
        float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] w = Rand(inDim * outDim), b = Rand(outDim), x = Rand(batch * inDim);
        var model = new OnnxGraphBuilder()
            .Input("X", TensorProto.Types.DataType.Float, "batch", inDim)
            .Output("Y", TensorProto.Types.DataType.Float, "batch", outDim)
            .Initializer("W", w, inDim, outDim).Initializer("B", b, outDim)
            .Node("MatMul", ["X", "W"], ["XW"]).Node("Add", ["XW", "B"], ["Y"])
            .ToBytes();

        using var session = OnnxRuntime.Open(model, new OnnxSessionSettings { Threads = threads }, "check model");
        var got = new float[batch * outDim];
        using (var input = OnnxRuntime.Tensor(x.AsMemory(), batch, inDim))
        using (var output = OnnxRuntime.Tensor(got.AsMemory(), batch, outDim))
            OnnxRuntime.Run(session, "check model", ["X"], [input], ["Y"], [output]);
        double maxDelta = 0;
        for (var r = 0; r < batch; r++)
            for (var j = 0; j < outDim; j++)
            {
                double s = b[j];
                for (var p = 0; p < inDim; p++)
                    s += (double)x[r * inDim + p] * w[p * outDim + j];
                maxDelta = Math.Max(maxDelta, Math.Abs(s - got[r * outDim + j]));
            }
        return (maxDelta <= 1e-5, $"MatMul+Add [{batch}×{inDim}]·[{inDim}×{outDim}] by ONNX Runtime vs managed: max |Δ| = {maxDelta:G3}");
    }

    /// <summary>Writes rollout rows as a shard (Parquet.Net) and reads them back with the shard reader and with DuckDB SQL.</summary>
    private static (bool, string) CheckParquet()
    {
        const int count = 5000;
        var dir = Directory.CreateTempSubdirectory("aspo-check-");
        try
        {
            var rows = Enumerable.Range(0, count).Select(i => new RolloutRow
            {
                RunId = "check", Iteration = 1, PolicyVersion = 0, PromptUid = $"p{i / 8}", SampleIndex = i % 8, DataSource = "check",
                PromptTokenIds = [i, i + 1], ResponseTokenIds = Enumerable.Range(0, i % 17).ToArray(),
                OldLogprobs = Enumerable.Range(0, i % 17).Select(t => -0.5f * t).ToArray(), Entropies = i % 3 == 0 ? null : Enumerable.Range(0, i % 17).Select(t => 0.25f * t).ToArray(),
                ResponseText = $"answer {i}", GroundTruth = $"{i % 10}", Reward = i % 2, RewardComponents = new Dictionary<string, double> { ["correct"] = i % 2 },
                FinishReason = i % 5 == 0 ? "length" : "stop", Temperature = 1f, TopP = 1f, TopK = 0, Seed = (ulong)i * 0x9E3779B97F4A7C15UL,
            }).ToList();
            string path;
            using (var writer = new ShardWriter(dir.FullName))
            {
                writer.Append(rows);
                path = writer.WritePart(0);
            }
            using var reader = new ShardReader(path);
            var back = reader.ReadBatches().SelectMany(b => b).ToList();
            var same = back.Count == count && rows.Zip(back).All(p => p.First.SameAs(p.Second));
            using var conn = Aspo.Data.DuckDbSql.Open();
            var sql = Aspo.Data.DuckDbSql.ReadStrings(conn, $"SELECT count(*), sum(list_sum(old_logprobs)) FROM read_parquet({Aspo.Data.DuckDbSql.Literal(path)})")[0];
            var expectedSum = rows.Sum(r => r.OldLogprobs.Sum(v => (double)v));
            var ok = same && sql[0] == count.ToString(System.Globalization.CultureInfo.InvariantCulture)
                     && Math.Abs(double.Parse(sql[1]!, System.Globalization.CultureInfo.InvariantCulture) - expectedSum) <= 1e-9 * Math.Abs(expectedSum);
            return (ok, $"{count} rollout rows written by Parquet.Net ({new FileInfo(path).Length} bytes, zstd), read back {(same ? "exactly" : "WITH DIFFERENCES")} by DuckDB; SQL sum of old_logprobs {sql[1]} (expected {expectedSum})");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// A small random Qwen3 (GQA, q/k norm, untied head) scored and back-propagated by the torch learner and the native
    /// learner: log-probs within 1e-5 and every gradient within 1e-4 of its tensor's largest.
    /// </summary>
    private static (bool, string) CheckTorchLearner()
    {
        var config = new ModelConfig
        {
            Family = ModelFamily.Qwen3, HiddenSize = 32, IntermediateSize = 64, NumLayers = 2, NumHeads = 4, NumKvHeads = 2, HeadDim = 16,
            VocabSize = 97, MaxPositionEmbeddings = 64, EosTokenIds = [0],
        };
        var parameters = ModelInit.Random(config, seed: 5, std: 0.2);
        var rng = new Random(3);
        var batch = PackedSequences.Pack([.. new[] { 9, 17, 12 }.Select(n => (Enumerable.Range(0, 4).Select(_ => rng.Next(97)).ToArray(), Enumerable.Range(0, n).Select(_ => rng.Next(97)).ToArray()))]);
        var coefficients = Enumerable.Range(0, batch.ScoredTokens).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        (float[] LogProbs, float[] Gradients) Run(LearnerBackend backend)
        {
            using var learner = Aspo.Pipeline.Learners.Create(config, (float[])parameters.Clone(), new LearnerOptions { Backend = backend });
            var lp = new float[batch.ScoredTokens];
            learner.Score(batch, 0.8f, lp, [], forTraining: true);
            learner.Backward(coefficients, []);
            return (lp, learner.ReadGradients());
        }
        var native = Run(LearnerBackend.Native);
        var torch = Run(LearnerBackend.Torch);
        var dLp = native.LogProbs.Zip(torch.LogProbs, (a, b) => Math.Abs(a - b)).Max();
        var worstGradient = new ParameterLayout(config).Tensors.Max(t =>
        {
            double diff = 0, max = 0;
            for (var i = t.Offset; i < t.Offset + t.Count; i++)
            {
                diff = Math.Max(diff, Math.Abs(native.Gradients[i] - torch.Gradients[i]));
                max = Math.Max(max, Math.Abs(native.Gradients[i]));
            }
            return diff / Math.Max(max, 1e-12);
        });
        return (dLp <= 1e-5 && worstGradient <= 1e-4,
            $"LibTorch {Aspo.Torch.TorchRuntime.Version} vs native on a random Qwen3 ({batch.ScoredTokens} tokens): max |Δ logπ| = {dLp:G3}, worst gradient tensor rel. Δ = {worstGradient:G3}");
    }

    /// <summary>The default backend against the managed reference on a 256³ product, and its speed.</summary>
    private static (bool, string) CheckGemm()
    {
        const int n = 256;
        var rng = new Random(7);
        float[] Rand() => Enumerable.Range(0, n * n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] a = Rand(), b = Rand(), expected = new float[n * n], got = new float[n * n];
        new ReferenceGemm().Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, expected, n);
        var gemm = GemmBackends.CreateDefault();
        gemm.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, got, n); // warm-up
        var watch = Stopwatch.StartNew();
        const int reps = 20;
        for (var i = 0; i < reps; i++)
            gemm.Sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, got, n);
        var seconds = watch.Elapsed.TotalSeconds / reps;
        var maxDelta = expected.Zip(got, (e, g) => Math.Abs(e - g)).Max();
        // entries are sums of 256 products of magnitude < 1: an fp32 error bound of 1e-4 × 256 is generous and still catches a wrong kernel
        return (maxDelta <= 256 * 1e-4, $"{gemm.Name} {n}×{n}×{n} vs managed reference: max |Δ| = {maxDelta:G3}, {2.0 * n * n * n / seconds / 1e9:F1} GFLOP/s");
    }
}
