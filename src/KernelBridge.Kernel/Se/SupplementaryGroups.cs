using System.Globalization;

namespace KernelBridge.Kernel.Se;

/// <summary>A client's supplementary groups, read from the "Groups:" line of /proc/PID/status (SO_PEERCRED carries only the primary gid).</summary>
internal static class SupplementaryGroups
{
    public static IReadOnlyList<uint> Of(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("Groups:", StringComparison.Ordinal)) continue;
                var groups = new List<uint>();
                foreach (var part in line["Groups:".Length..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
                    if (uint.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var gid)) groups.Add(gid);
                return groups;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        // The client may already be gone; it keeps its primary group only.
        return [];
    }
}
