namespace Aspo.Native.Tests;

public sealed class LibraryResolutionTests : IDisposable
{
    private readonly string _empty = Directory.CreateTempSubdirectory("aspo-native-empty-").FullName;

    public void Dispose() => Directory.Delete(_empty, recursive: true);

    public static TheoryData<string> ProjectLibraries() => new(NativeLibraries.All.Select(l => l.FileName));

    [Theory]
    [InlineData("libonnxruntime.so.1")]
    [InlineData("libduckdb.so")]
    public void Missing_library_error_names_it_and_the_setup_command(string fileName)
    {
        // ASPO_NATIVE_DIR points at an empty folder and there is no .native/. The system loader is left out here
        // because dlopen returns a library this test process already loaded; the CLI tests check the whole
        // chain, system loader included, in a fresh process.
        var lib = NativeLibraries.All.Single(l => l.FileName == fileName);
        var locator = new NativeLibraryLocator(_empty, repositoryNativeDirectory: null, useSystemLoader: false);
        var e = Assert.Throws<NativeLibraryMissingException>(() => locator.Load(lib));
        Assert.Equal(fileName, e.LibraryFileName);
        Assert.Contains(fileName, e.Message);
        Assert.Contains("tools/setup", e.Message);
        Assert.Contains("ASPO_NATIVE_DIR", e.Message);
        Assert.Contains(_empty, e.Message);
    }

    [Fact]
    public void A_present_but_unloadable_file_is_reported_as_such()
    {
        File.WriteAllText(Path.Combine(_empty, "libduckdb.so"), "not an ELF file");
        var locator = new NativeLibraryLocator(_empty, null, useSystemLoader: true);
        var e = Assert.Throws<NativeLibraryMissingException>(() => locator.Load(NativeLibraries.DuckDb));
        Assert.Contains("could not be loaded", e.Message);
        Assert.Contains(Path.Combine(_empty, "libduckdb.so"), e.Message);
    }

    [Fact]
    public void Override_directory_comes_before_the_repository_folder()
    {
        var repoNative = NativeLibraryLocator.FindRepositoryNativeDirectory(AppContext.BaseDirectory);
        Assert.NotNull(repoNative); // tools/setup ran: tests live below the repository root
        File.CreateSymbolicLink(Path.Combine(_empty, "libduckdb.so"), Path.Combine(repoNative!, "libduckdb.so"));
        var locator = new NativeLibraryLocator(_empty, repoNative, useSystemLoader: false);
        Assert.Equal(Path.Combine(_empty, "libduckdb.so"), locator.Describe(NativeLibraries.DuckDb));
        Assert.NotEqual(IntPtr.Zero, locator.Load(NativeLibraries.DuckDb));
        Assert.Equal(locator.Load(NativeLibraries.DuckDb), locator.Load(NativeLibraries.DuckDb)); // cached
    }

    [Theory]
    [MemberData(nameof(ProjectLibraries))]
    public void Every_project_library_is_installed_and_loads(string fileName) =>
        Assert.NotEqual(IntPtr.Zero, NativeLibraryLocator.Default.Load(NativeLibraries.All.Single(l => l.FileName == fileName)));

    [Fact]
    public void Blank_override_is_treated_as_unset()
    {
        var locator = new NativeLibraryLocator("  ", null, useSystemLoader: false);
        Assert.Null(locator.OverrideDirectory);
        var e = Assert.Throws<NativeLibraryMissingException>(() => locator.Load(NativeLibraries.OnnxRuntime));
        Assert.Contains("ASPO_NATIVE_DIR: not set", e.Message);
    }
}
