using System.Text.Json;
using System.Text.Json.Serialization;

namespace KernelBridge.Abi.Diagnostics;

/// <summary>The request a bug check happened in: what the IRP was for and on whose behalf.</summary>
public sealed record BugCheckIrp(string Major, uint IoControlCode, int ProcessId, string? ProcessName, int ThreadId, string Status, long Information);

/// <summary>
/// One bug-check record (KeBugCheckEx's four parameters, tamed): the stop code with Windows'
/// number, its parameters, the faulting driver, the request, what was wrong and where. The kernel
/// writes each as JSON beside its text report in the instance's bugchecks directory, and
/// KbQueryBugChecks returns them; `kbridge bugcheck` reads either.
/// </summary>
public sealed record BugCheckRecord
{
    public int Number { get; init; }
    public DateTime Time { get; init; }
    public uint Code { get; init; }
    public string Name { get; init; } = "";
    public ulong Parameter1 { get; init; }
    public ulong Parameter2 { get; init; }
    public ulong Parameter3 { get; init; }
    public ulong Parameter4 { get; init; }
    public string? Driver { get; init; }
    public BugCheckIrp? Irp { get; init; }
    public string Detail { get; init; } = "";
    public string? Exception { get; init; }
    public string? Stack { get; init; }
    public string Policy { get; init; } = "";
    /// <summary>Whether the driver named was verified (the check that found it may need the verifier).</summary>
    public bool Verified { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, BugCheckJson.Default.BugCheckRecord);

    public static BugCheckRecord? FromJson(string json) => JsonSerializer.Deserialize(json, BugCheckJson.Default.BugCheckRecord);

    public static string ListToJson(IReadOnlyList<BugCheckRecord> records) =>
        JsonSerializer.Serialize(records.ToArray(), BugCheckJson.Default.BugCheckRecordArray);

    public static BugCheckRecord[] ListFromJson(ReadOnlySpan<byte> utf8) =>
        utf8.IsEmpty ? [] : JsonSerializer.Deserialize(utf8, BugCheckJson.Default.BugCheckRecordArray) ?? [];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(BugCheckRecord))]
[JsonSerializable(typeof(BugCheckRecord[]))]
internal sealed partial class BugCheckJson : JsonSerializerContext;
