using Aspo.Native.Ort;
using Aspo.Onnx;
using Aspo.Onnx.Proto;

namespace Aspo.Native.Tests;

public sealed class OrtSessionTests : IDisposable
{
    private const int In = 3, Out = 4;
    private readonly OrtEnvironment _env = new();
    private readonly float[] _w;
    private readonly float[] _b;

    public OrtSessionTests()
    {
        var rng = new Random(1234);
        _w = Enumerable.Range(0, In * Out).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        _b = Enumerable.Range(0, Out).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    public void Dispose() => _env.Dispose();

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

    private static void AssertClose(float[] expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f * (1 + Math.Abs(expected[i])),
                $"element {i}: ORT {actual[i]} vs managed {expected[i]}");
    }

    [Fact]
    public void Runtime_reports_version_1_30_and_the_cpu_provider()
    {
        Assert.Equal("1.30.0", OrtEnvironment.Version);
        Assert.Contains("CPUExecutionProvider", OrtEnvironment.AvailableProviders());
        Assert.Contains("git-commit-id", OrtEnvironment.BuildInfo);
    }

    [Fact]
    public void MatMul_add_model_from_bytes_matches_managed_computation()
    {
        using var options = new OrtSessionOptions();
        options.SetIntraOpThreads(1);
        options.SetGraphOptimizationLevel(OrtGraphOptimizationLevel.All);
        using var session = OrtSession.FromBytes(_env, MatMulAddModel(), options);

        const int batch = 5;
        var x = RandomInput(batch, seed: 7);
        using var input = OrtValue.FromMemory<float>(x, [batch, In]);
        var outputs = session.Run([new("X", input)], "Y");
        using var y = outputs[0];

        var info = y.GetTensorInfo();
        Assert.Equal(OrtTensorElementType.Float, info.ElementType);
        Assert.Equal([batch, Out], info.Shape);
        AssertClose(Expected(x, batch), y.GetTensorSpan<float>());
    }

    [Fact]
    public void Session_reports_its_signature_with_symbolic_dimensions()
    {
        using var session = OrtSession.FromBytes(_env, MatMulAddModel());
        var x = Assert.Single(session.Inputs);
        Assert.Equal("X", x.Name);
        Assert.Equal(OrtTensorElementType.Float, x.ElementType);
        Assert.Equal([-1L, In], x.Shape);
        Assert.Equal("batch", x.DimensionNames[0]);
        var y = Assert.Single(session.Outputs);
        Assert.Equal("Y: Float[batch, 4]", y.ToString());
    }

    [Fact]
    public void Model_file_loads_and_writes_into_a_premade_output_tensor()
    {
        var path = Path.Combine(Path.GetTempPath(), $"aspo-matmul-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, MatMulAddModel());
        try
        {
            using var session = OrtSession.FromFile(_env, path);
            const int batch = 3;
            var x = RandomInput(batch, seed: 11);
            var yBuffer = new float[batch * Out];
            Array.Fill(yBuffer, float.NaN);
            using var input = OrtValue.FromMemory<float>(x, [batch, In]);
            using var output = OrtValue.FromMemory<float>(yBuffer, [batch, Out]);
            var outputs = new OrtValue?[] { output };
            session.Run(["X"], [input], ["Y"], outputs);
            Assert.Same(output, outputs[0]);
            AssertClose(Expected(x, batch), yBuffer); // ORT wrote into our buffer
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Bad_model_file_gives_typed_exception_with_ort_message_and_file_name()
    {
        var path = Path.Combine(Path.GetTempPath(), $"aspo-bad-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, [0x08, 0xFF, 0xFF, 0x12, 0x34, 0x00, 0x1A, 0x7F, 0x55]);
        try
        {
            var e = Assert.Throws<OrtException>(() => OrtSession.FromFile(_env, path));
            Assert.NotEqual(OrtErrorCode.Ok, e.Code);
            Assert.False(string.IsNullOrWhiteSpace(e.NativeMessage));
            Assert.Contains(e.NativeMessage, e.Message);
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Missing_model_file_names_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"aspo-missing-{Guid.NewGuid():N}.onnx");
        var e = Assert.Throws<FileNotFoundException>(() => OrtSession.FromFile(_env, path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Unsupported_ir_version_is_rejected_with_ort_message()
    {
        var e = Assert.Throws<OrtException>(() => OrtSession.FromBytes(_env, new OnnxGraphBuilder()
            .Input("X", TensorProto.Types.DataType.Float, 1).Output("Y", TensorProto.Types.DataType.Float, 1)
            .Node("Identity", ["X"], ["Y"]).ToBytes(irVersion: 99)));
        Assert.Contains("IR version", e.NativeMessage, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Wrong_input_shape_is_rejected_by_ort_naming_the_input()
    {
        using var session = OrtSession.FromBytes(_env, MatMulAddModel());
        using var input = OrtValue.FromMemory<float>(new float[4], [2, 2]);
        var e = Assert.Throws<OrtException>(() => session.Run([new("X", input)], "Y"));
        Assert.Equal(OrtErrorCode.InvalidArgument, e.Code);
        Assert.Contains("X", e.NativeMessage);
    }

    [Fact]
    public void Unknown_input_name_lists_the_model_inputs()
    {
        using var session = OrtSession.FromBytes(_env, MatMulAddModel());
        using var input = OrtValue.FromMemory<float>(new float[3], [1, 3]);
        var e = Assert.Throws<ArgumentException>(() => session.Run([new("Xx", input)], "Y"));
        Assert.Contains("'Xx'", e.Message);
        Assert.Contains("inputs are: X", e.Message);
    }

    [Fact]
    public void Tensor_shape_must_match_buffer_length()
    {
        var e = Assert.Throws<ArgumentException>(() => OrtValue.FromMemory<float>(new float[5], [2, 3]));
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("5", e.Message);
    }

    [Fact]
    public void Reading_a_tensor_as_the_wrong_type_is_an_error()
    {
        using var value = OrtValue.FromMemory<long>(new long[] { 1, 2, 3 }, [3]);
        Assert.Equal([1L, 2, 3], value.GetTensorSpan<long>().ToArray());
        Assert.Throws<InvalidOperationException>(() => value.GetTensorSpan<float>());
    }

    [Fact]
    public void Cuda_provider_without_a_cuda_build_is_a_typed_error_not_a_crash()
    {
        // the npm build lists CUDA but ships none of its provider libraries (shared/reference/onnxruntime.md §1.5)
        using var options = new OrtSessionOptions();
        var e = Assert.Throws<OrtException>(() => options.AppendCudaExecutionProvider(0));
        Assert.Contains("libonnxruntime_providers_shared", e.NativeMessage);
        Assert.Contains("CUDA", e.Message);
    }

    [Fact]
    public void Session_options_accept_threads_modes_and_config_entries()
    {
        using var options = new OrtSessionOptions();
        options.SetIntraOpThreads(2);
        options.SetInterOpThreads(1);
        options.SetExecutionMode(OrtExecutionMode.Sequential);
        options.SetGraphOptimizationLevel(OrtGraphOptimizationLevel.Extended);
        options.AddConfigEntry("session.intra_op.allow_spinning", "0");
        using var session = OrtSession.FromBytes(_env, MatMulAddModel(), options);
        var x = RandomInput(2, seed: 3);
        using var input = OrtValue.FromMemory<float>(x, [2, In]);
        using var y = session.Run([new("X", input)], "Y")[0];
        AssertClose(Expected(x, 2), y.GetTensorSpan<float>());
    }
}
