using System.Globalization;

namespace KernelBridge.Cli.Fuzz;

/// <summary>The kernel process seen from outside: alive by its pid, and its resident set from /proc.</summary>
internal static class KernelWatch
{
    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !IsZombie(pid);

    /// <summary>VmRSS of the process in bytes, or null once it is gone.</summary>
    public static long? ResidentBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
                var kilobytes = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // "pid (comm) S ...": the state follows the last ')'.
            var state = stat[(stat.LastIndexOf(')') + 2)..];
            return state.StartsWith('Z') || state.StartsWith('X');
        }
        catch (IOException)
        {
            return true;
        }
    }
}
