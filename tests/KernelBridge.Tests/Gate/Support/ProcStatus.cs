using System.Globalization;

namespace KernelBridge.Tests.Gate.Support;

/// <summary>What /proc/PID/status says about a process the test started: resident memory, threads.</summary>
internal static class ProcStatus
{
    /// <summary>VmRSS in bytes.</summary>
    public static long ResidentBytes(int pid) => Field(pid, "VmRSS") * 1024;

    public static int Threads(int pid) => (int)Field(pid, "Threads");

    /// <summary>The descriptor number the process's next open would get (the lowest one free).</summary>
    public static int LowestFreeDescriptor(int pid)
    {
        var open = Directory.GetFiles($"/proc/{pid}/fd").Select(path => int.Parse(Path.GetFileName(path), CultureInfo.InvariantCulture)).ToHashSet();
        var lowest = 0;
        while (open.Contains(lowest)) lowest++;
        return lowest;
    }

    private static long Field(int pid, string name)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith(name + ":", StringComparison.Ordinal)) continue;
            var value = line[(name.Length + 1)..].Trim();
            var space = value.IndexOf(' ', StringComparison.Ordinal);
            return long.Parse(space < 0 ? value : value[..space], CultureInfo.InvariantCulture);
        }
        throw new InvalidOperationException($"/proc/{pid}/status has no {name} line");
    }
}
