using Aspo.Model;
using Aspo.Onnx.Proto;
using Microsoft.ML.OnnxRuntime;

namespace Aspo.Onnx.Tests;

/// <summary>ONNX Runtime from NuGet through <see cref="OnnxRuntime"/>: results against a managed computation, and one clear error for each misuse.</summary>
public sealed class OnnxRuntimeTests
{
    private const int In = 3, Out = 4;
    private readonly float[] _w;
    private readonly float[] _b;

    public OnnxRuntimeTests()
    {
        var rng = new Random(1234);
        _w = Enumerable.Range(0, In * Out).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        _b = Enumerable.Range(0, Out).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>Y[batch, 4] = X[batch, 3] · W[3, 4] + B[4], written with the protobuf classes.</summary>
    private byte[] MatMulAddModel() => new OnnxGraphBuilder()
        .Input("X", TensorProto.Types.DataType.Float, "batch", In)
        .Output("Y", TensorProto.Types.DataType.Float, "batch", Out)
        .Initializer("W", _w, In, Out)
        .Initializer("B", _b, Out)
        .Node("MatMul", ["X", "W"], ["XW"])
        .Node("Add", ["XW", "B"], ["Y"])
        .ToBytes();

    private float[] Expected(float[] x, int batch)
    {
        var y = new float[batch * Out];
        for (var r = 0; r < batch; r++)
            for (var j = 0; j < Out; j++)
            {
                double s = _b[j];
                for (var p = 0; p < In; p++)
                    s += (double)x[r * In + p] * _w[p * Out + j];
                y[r * Out + j] = (float)s;
            }
        return y;
    }

    private static float[] RandomInput(int batch, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, batch * In).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    private static readonly OnnxSessionSettings OneThread = new() { Threads = 1 };

    [Fact]
    public void Runtime_is_the_nuget_1_31_build_with_the_cpu_provider()
    {
        Assert.Equal("1.31.0", OnnxRuntime.Version);
        Assert.Contains("CPUExecutionProvider", OnnxRuntime.Providers);
        Assert.Equal("Microsoft.ML.OnnxRuntime 1.31.0", OnnxRuntime.Package);
    }

    [Fact]
    public void A_model_from_bytes_writes_into_premade_outputs_and_matches_the_managed_computation()
    {
        using var session = OnnxRuntime.Open(MatMulAddModel(), OneThread, "matmul model");
        Assert.Equal([-1, In], session.InputMetadata["X"].Dimensions);
        Assert.Equal("batch", session.InputMetadata["X"].SymbolicDimensions[0]);
        const int batch = 5;
        var x = RandomInput(batch, seed: 7);
        var y = new float[batch * Out];
        Array.Fill(y, float.NaN);
        using (var input = OnnxRuntime.Tensor(x.AsMemory(), batch, In))
        using (var output = OnnxRuntime.Tensor(y.AsMemory(), batch, Out))
            OnnxRuntime.Run(session, "matmul model", ["X"], [input], ["Y"], [output]);
        var expected = Expected(x, batch);
        for (var i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(expected[i] - y[i]) <= 1e-5f * (1 + Math.Abs(expected[i])), $"element {i}: ORT {y[i]} vs managed {expected[i]}");
    }

    [Fact]
    public void A_bad_or_missing_model_file_is_a_model_format_error_naming_it()
    {
        var dir = Directory.CreateTempSubdirectory("aspo-ort-").FullName;
        try
        {
            var bad = Path.Combine(dir, "bad.onnx");
            File.WriteAllBytes(bad, [0x08, 0xFF, 0xFF, 0x12, 0x34, 0x00, 0x1A, 0x7F, 0x55]);
            var e = Assert.Throws<ModelFormatException>(() => OnnxRuntime.Open(bad, OneThread));
            Assert.StartsWith($"{bad}: ONNX Runtime cannot load the model: ", e.Message);
            var missing = Path.Combine(dir, "missing.onnx");
            Assert.StartsWith($"{missing}: ONNX Runtime cannot load the model", Assert.Throws<ModelFormatException>(() => OnnxRuntime.Open(missing, OneThread)).Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void An_unsupported_ir_version_is_rejected_with_the_runtime_message()
    {
        var model = new OnnxGraphBuilder()
            .Input("X", TensorProto.Types.DataType.Float, 1).Output("Y", TensorProto.Types.DataType.Float, 1)
            .Node("Identity", ["X"], ["Y"]).ToBytes(irVersion: 99);
        var e = Assert.Throws<ModelFormatException>(() => OnnxRuntime.Open(model, OneThread, "ir99 model"));
        Assert.Contains("ir99 model", e.Message);
        Assert.Contains("IR version", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_wrong_input_shape_is_a_run_error_naming_the_model_and_the_input()
    {
        using var session = OnnxRuntime.Open(MatMulAddModel(), OneThread, "matmul model");
        using var input = OnnxRuntime.Tensor(new float[4].AsMemory(), 2, 2);
        using var output = OnnxRuntime.Tensor(new float[8].AsMemory(), 2, Out);
        var e = Assert.Throws<OnnxRunException>(() => OnnxRuntime.Run(session, "matmul model", ["X"], [input], ["Y"], [output]));
        Assert.StartsWith("matmul model: ONNX Runtime failed to run the model", e.Message);
        Assert.Contains("X", e.Message);
        Assert.IsAssignableFrom<Aspo.Native.AspoNativeException>(e); // the CLI prints it as one line
    }

    [Fact]
    public void A_tensor_shape_must_match_its_buffer()
    {
        var e = Assert.Throws<OnnxRuntimeException>(() => OnnxRuntime.Tensor(new float[5].AsMemory(), 2, 3));
        Assert.Contains("5", e.Message);
    }

    [Fact]
    public void Cuda_without_a_cuda_build_is_one_error_naming_the_package_and_the_switch()
    {
        var e = Assert.Throws<ArgumentException>(() => OnnxRuntime.Open(MatMulAddModel(), new OnnxSessionSettings { Device = "cuda" }, "matmul model"));
        Assert.Equal("ONNX Runtime device cuda: this build (Microsoft.ML.OnnxRuntime 1.31.0) has no CUDA execution provider (it has CPUExecutionProvider); " +
                     "build with -p:OnnxBackend=cuda (Microsoft.ML.OnnxRuntime.Gpu 1.31.0, CUDA 12 and cuDNN 9 installed)", e.Message);
        Assert.Contains("expected cpu, cuda or cuda:N",
            Assert.Throws<ArgumentException>(() => OnnxRuntime.Open(MatMulAddModel(), new OnnxSessionSettings { Device = "gpu" }, "matmul model")).Message);
        var (_, _, folder) = TestModels.Exported("qwen2");
        Assert.Contains("has no CUDA execution provider", Assert.Throws<ArgumentException>(() => OnnxDecoder.Open(folder, new OnnxSessionSettings { Device = "cuda:1" })).Message);
    }
}
