using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Aspo.Native;

/// <summary>One native library this project calls: the file the loader opens and who installs it.</summary>
/// <param name="ImportName">the name used in <c>[LibraryImport]</c> declarations of this assembly</param>
/// <param name="FileName">the shared object file name, e.g. <c>libopenblas.so.0</c></param>
/// <param name="Description">what it is, for messages</param>
/// <param name="InstalledBy">where <c>tools/setup</c> takes it from, for messages</param>
public sealed record NativeLibraryInfo(string ImportName, string FileName, string Description, string InstalledBy);
