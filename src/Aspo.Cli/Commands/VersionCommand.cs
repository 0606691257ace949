using System.CommandLine;
using System.Reflection;
using Aspo.Native;
using Aspo.Native.Blas;

namespace Aspo.Cli.Commands;

/// <summary><c>aspo version</c>: the project version and the version of every native runtime it would use.</summary>
internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the project version and each native runtime's version (ONNX Runtime, DuckDB, BLAS, LibTorch).");
        command.SetAction(_ => CommandRunner.Run(() => Print(Console.Out)));
        return command;
    }

    /// <summary>Prints one line per component; returns 1 if a native runtime is missing (after printing the others).</summary>
    internal static int Print(TextWriter output)
    {
        output.WriteLine($"aspo {ProjectVersion}");
        var failures = new List<string>();
        void Line(string label, Func<string> describe)
        {
            try
            {
                output.WriteLine($"{label,-14}{describe()}");
            }
            catch (AspoNativeException e)
            {
                output.WriteLine($"{label,-14}MISSING");
                failures.Add(e.Message);
            }
        }

        Line("onnxruntime", () => $"{Aspo.Onnx.OnnxRuntime.Version} ({Aspo.Onnx.OnnxRuntime.Package}; {string.Join(", ", Aspo.Onnx.OnnxRuntime.Providers)}; {PackagedLibrary("libonnxruntime.so")})");
        Line("duckdb", () => $"{Aspo.Data.DuckDbSql.Version} ({Aspo.Data.DuckDbSql.Package}; {PackagedLibrary("libduckdb.so")})");
        Line("blas", () => new OpenBlasGemm().Description);
        Line("onednn", () => new OneDnnGemm().Description);
        Line("gemm", () => $"{GemmBackends.CreateDefault().Name} (set {GemmBackends.EnvironmentVariable} to one of: {string.Join(", ", GemmBackends.Names)})");
        Line("libtorch", () => $"{Aspo.Torch.TorchRuntime.Describe()}; device cpu{CudaNote()}; {LibTorchNative.Folder}");
        foreach (var failure in failures)
            Console.Error.WriteLine($"error: {failure}");
        return failures.Count == 0 ? 0 : 1;
    }

    /// <summary>The path of a native library that a NuGet package put next to the assemblies.</summary>
    private static string PackagedLibrary(string file) =>
        Path.Combine(AppContext.BaseDirectory, file) is var path && File.Exists(path) ? path : $"{file} not next to the assemblies; the system loader finds it";

    private static string CudaNote() => Aspo.Torch.TorchRuntime.Build == "cuda" ? ", cuda" : $" (CUDA: build with -p:{Aspo.Torch.TorchRuntime.BackendProperty}=cuda)";

    internal static string ProjectVersion =>
        typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
