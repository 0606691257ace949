using System.Runtime.InteropServices;
using System.Text;

namespace Aspo.Native;

/// <summary>UTF-8 helpers for C strings passed to and read from native code (not for hot loops).</summary>
internal static unsafe class Utf8
{
    /// <summary>The UTF-8 bytes of <paramref name="s"/> followed by a NUL terminator.</summary>
    public static byte[] NullTerminated(string s)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, bytes);
        return bytes;
    }

    /// <summary>A NUL-terminated UTF-8 copy of <paramref name="s"/> in native memory; free with <see cref="NativeMemory.Free"/>.</summary>
    public static byte* AllocNative(string s)
    {
        var n = Encoding.UTF8.GetByteCount(s);
        var p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        return p;
    }

    public static string Read(byte* p) => p == null ? "" : Marshal.PtrToStringUTF8((nint)p) ?? "";

    public static string Read(nint p) => p == 0 ? "" : Marshal.PtrToStringUTF8(p) ?? "";
}
