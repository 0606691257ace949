using System.Globalization;

namespace Aspo.Native;

/// <summary>What the machine has left: the memory new allocations can take without pushing anything out.</summary>
public static class SystemMemory
{
    /// <summary>
    /// Bytes available now: Linux's MemAvailable (free plus reclaimable page cache); elsewhere the GC's view of the
    /// memory left (total minus the memory load).
    /// </summary>
    public static long AvailableBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024; // "MemAvailable:  123 kB"
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        var info = GC.GetGCMemoryInfo();
        return info.TotalAvailableMemoryBytes - info.MemoryLoadBytes;
    }
}
