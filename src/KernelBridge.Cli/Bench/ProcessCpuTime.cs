using System.Globalization;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Cli.Bench;

/// <summary>A process's CPU time so far, all its threads, user and system: utime + stime of /proc/PID/stat.</summary>
internal static class ProcessCpuTime
{
    public static TimeSpan Of(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException e)
        {
            throw new BenchFailedException($"cannot read the CPU time of process {pid}: {e.Message}");
        }
        // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // fields 14 and 15
        return TimeSpan.FromSeconds(ticks / (double)Libc.ClockTicksPerSecond());
    }
}
