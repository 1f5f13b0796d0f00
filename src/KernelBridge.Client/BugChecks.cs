using KernelBridge.Abi;
using KernelBridge.Abi.Diagnostics;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client;

/// <summary>The kernel's bug-check records (KbQueryBugChecks), and the same records read from an instance's bugchecks directory.</summary>
public static class BugChecks
{
    /// <summary>The records the running kernel keeps (oldest first) and how many there have been; <paramref name="clear"/> forgets them afterwards.</summary>
    public static (IReadOnlyList<BugCheckRecord> Records, int Total) Query(GateClient? gate = null, bool clear = false)
    {
        gate ??= GateClient.Current;
        using var answer = Syscalls.KbQueryBugChecks(gate, new KbQueryBugChecksRequest(clear ? BugCheckQueryFlags.Clear : BugCheckQueryFlags.None));
        NtStatusException.ThrowIfFailed(answer.Status, "KbQueryBugChecks");
        var reply = answer.Reply;
        var records = BugCheckRecord.ListFromJson(KbBugChecksReply.ReadData(in reply, answer.Data).Records);
        return (records, (int)reply.Total);
    }

    /// <summary>The records in a bugchecks directory (what a kernel that is not running left), oldest first.</summary>
    public static IReadOnlyList<BugCheckRecord> ReadDirectory(string directory)
    {
        if (!Directory.Exists(directory)) return [];
        var records = new List<BugCheckRecord>();
        foreach (var file in Directory.EnumerateFiles(directory, "*.json"))
        {
            try
            {
                if (BugCheckRecord.FromJson(File.ReadAllText(file)) is { } record) records.Add(record);
            }
            catch (Exception e) when (e is IOException or System.Text.Json.JsonException)
            {
                // A record being written, or not one of ours: skipped.
            }
        }
        return [.. records.OrderBy(r => r.Time).ThenBy(r => r.Number)];
    }

    /// <summary>Deletes the records in a bugchecks directory; how many there were.</summary>
    public static int ClearDirectory(string directory)
    {
        if (!Directory.Exists(directory)) return 0;
        var count = 0;
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            if (!file.EndsWith(".json", StringComparison.Ordinal) && !file.EndsWith(".txt", StringComparison.Ordinal)) continue;
            if (file.EndsWith(".json", StringComparison.Ordinal)) count++;
            File.Delete(file);
        }
        return count;
    }
}
