using System.CommandLine;
using System.Diagnostics;
using Aspo.Model;
using Aspo.Native.Blas;
using Aspo.Native.DuckDb;
using Aspo.Native.Ort;
using Aspo.Onnx;
using Aspo.Onnx.Proto;

namespace Aspo.Cli.Commands;

/// <summary>
/// <c>aspo check</c>: proves the installation works end to end — prints the runtime versions, runs a tiny
/// ONNX model through ONNX Runtime against a managed computation, round-trips a Parquet file through DuckDB,
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

        using var env = new OrtEnvironment();
        using var options = new OrtSessionOptions();
        options.SetIntraOpThreads(threads);
        using var session = OrtSession.FromBytes(env, model, options, "check model");
        using var input = OrtValue.FromMemory<float>(x, [batch, inDim]);
        using var y = session.Run([new("X", input)], "Y")[0];
        var got = y.GetTensorSpan<float>();
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

    /// <summary>Writes rows with a list&lt;float&gt; column to Parquet and reads them back with DuckDB SQL.</summary>
    private static (bool, string) CheckParquet()
    {
        const int rows = 5000;
        var dir = Directory.CreateTempSubdirectory("aspo-check-");
        try
        {
            var path = Path.Combine(dir.FullName, "check.parquet");
            double expectedSum = 0;
            using (var db = DuckDbDatabase.Open())
            using (var conn = db.Connect())
            {
                conn.Execute("CREATE TABLE t (id BIGINT, v FLOAT[])");
                using (var appender = conn.CreateAppender("t"))
                using (var chunk = appender.CreateChunk())
                {
                    for (var start = 0; start < rows; start += DuckDbDatabase.VectorSize)
                    {
                        chunk.Reset();
                        var n = Math.Min(DuckDbDatabase.VectorSize, rows - start);
                        var ids = chunk.GetVector(0).GetData<long>(n);
                        var lists = chunk.GetVector(1);
                        for (var r = 0; r < n; r++)
                        {
                            ids[r] = start + r;
                            float[] values = [(start + r) * 0.5f, 1f];
                            expectedSum += values[0] + values[1];
                            lists.AppendList<float>(r, values);
                        }
                        chunk.Size = n;
                        appender.Append(chunk);
                    }
                    appender.Close();
                }
                conn.Execute($"COPY t TO {DuckDbConnection.Literal(path)} (FORMAT parquet)");
            }
            using var db2 = DuckDbDatabase.Open();
            using var conn2 = db2.Connect();
            using var result = conn2.Query($"SELECT count(*), sum(list_sum(v)) FROM read_parquet({DuckDbConnection.Literal(path)})");
            using var c = result.FetchChunk()!;
            var count = c.GetVector(0).GetData<long>(1)[0];
            var sum = c.GetVector(1).GetData<double>(1)[0];
            var ok = count == rows && Math.Abs(sum - expectedSum) <= 1e-9 * expectedSum;
            return (ok, $"{count} rows with list<float> written and read back via {new FileInfo(path).Length} bytes of Parquet, sum {sum} (expected {expectedSum})");
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
