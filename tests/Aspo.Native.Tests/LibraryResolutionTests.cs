namespace Aspo.Native.Tests;

public sealed class LibraryResolutionTests : IDisposable
{
    private readonly string _empty = Directory.CreateTempSubdirectory("aspo-native-empty-").FullName;

    public void Dispose() => Directory.Delete(_empty, recursive: true);

    public static TheoryData<string> ProjectLibraries() => new(NativeLibraries.All.Select(l => l.FileName));

    [Theory]
    [InlineData("libopenblas.so.0")]
    [InlineData("libdnnl.so.2")]
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
        File.WriteAllText(Path.Combine(_empty, "libdnnl.so.2"), "not an ELF file");
        var locator = new NativeLibraryLocator(_empty, null, useSystemLoader: true);
        var e = Assert.Throws<NativeLibraryMissingException>(() => locator.Load(NativeLibraries.OneDnn));
        Assert.Contains("could not be loaded", e.Message);
        Assert.Contains(Path.Combine(_empty, "libdnnl.so.2"), e.Message);
    }

    [Fact]
    public void Override_directory_comes_before_the_repository_folder()
    {
        // the Debian package's file (tools/setup installs libdnnl2), linked into both folders
        var installed = Path.Combine("/usr/lib/x86_64-linux-gnu", "libdnnl.so.2");
        Assert.True(File.Exists(installed), $"{installed} missing: run tools/setup");
        var repository = Directory.CreateDirectory(Path.Combine(_empty, "repository-native")).FullName;
        var overriding = Directory.CreateDirectory(Path.Combine(_empty, "override")).FullName;
        File.CreateSymbolicLink(Path.Combine(repository, "libdnnl.so.2"), installed);
        File.CreateSymbolicLink(Path.Combine(overriding, "libdnnl.so.2"), installed);
        var locator = new NativeLibraryLocator(overriding, repository, useSystemLoader: false);
        Assert.Equal(Path.Combine(overriding, "libdnnl.so.2"), locator.Describe(NativeLibraries.OneDnn));
        Assert.NotEqual(IntPtr.Zero, locator.Load(NativeLibraries.OneDnn));
        Assert.Equal(locator.Load(NativeLibraries.OneDnn), locator.Load(NativeLibraries.OneDnn)); // cached
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
        var e = Assert.Throws<NativeLibraryMissingException>(() => locator.Load(NativeLibraries.OpenBlas));
        Assert.Contains("ASPO_NATIVE_DIR: not set", e.Message);
    }
}
