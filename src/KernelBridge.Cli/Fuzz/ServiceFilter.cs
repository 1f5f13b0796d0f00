using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Cli.Fuzz;

/// <summary>
/// The services the live fuzzer never calls: the ones a privileged client may rightly use to stop
/// the kernel or change what everyone else gets (shutdown, driver load and unload, KernelBridge's
/// other management calls, security descriptors). Calling them is not an attack on the kernel, and
/// their effect would be misread as the kernel failing the checker. For the same reason a request's
/// OBJ_PERMANENT is cleared: a privileged client may rightly leave a permanent named object behind,
/// which the baseline check would count as a leak. Every frame a worker sends is passed through
/// <see cref="Sanitize"/>, walking the stream as the kernel's frame decoder does.
/// </summary>
internal static class ServiceFilter
{
    /// <summary>The service number a forbidden call is rewritten to: unknown to every kernel.</summary>
    public const ushort Unknown = 0xFFFE;

    private static readonly HashSet<string> AllowedManagement = ["KbQueryKernelState", "KbQueryDrivers", "KbCancelWait", "KbQueryKernelMemory", "KbQueryQuotas"];

    public static bool IsForbidden(ushort number) => SyscallTable.Name(number) is { } name && IsForbidden(name);

    private static bool IsForbidden(string name) =>
        name is "NtLoadDriver" or "NtUnloadDriver"
        || (name.StartsWith("Kb", StringComparison.Ordinal) && !AllowedManagement.Contains(name))
        || name.Contains("Security", StringComparison.Ordinal);

    private const uint ObjPermanent = 0x10;

    /// <summary>Where each service's request keeps its object attributes (OBJ_*), for the services that have them.</summary>
    private static readonly Dictionary<ushort, int> AttributesOffset = FindAttributes();

    private static Dictionary<ushort, int> FindAttributes()
    {
        var offsets = new Dictionary<ushort, int>();
        foreach (var service in SyscallTable.All)
        {
            var type = typeof(WireProtocol).Assembly.GetType($"KernelBridge.Abi.Protocol.{service}Request");
            if (type?.GetField("<Attributes>k__BackingField", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic) is not null)
                offsets[(ushort)service] = (int)Marshal.OffsetOf(type, "<Attributes>k__BackingField");
        }
        return offsets;
    }

    /// <summary>Every service a worker may call.</summary>
    public static IReadOnlyList<Syscall> Allowed { get; } = [.. SyscallTable.All.Where(s => !IsForbidden((ushort)s))];

    /// <summary>Rewrites the number of every forbidden call the kernel would read out of <paramref name="stream"/> (frames back to back).</summary>
    public static void Sanitize(Span<byte> stream)
    {
        var offset = 0;
        while (stream.Length - offset >= FrameHeader.Size)
        {
            var header = MemoryMarshal.Read<FrameHeader>(stream[offset..]);
            if (header.Kind == FrameKind.Call && IsForbidden(header.Code))
                MemoryMarshal.Write(stream[(offset + 6)..], Unknown);
            else if (header.Kind == FrameKind.Call && AttributesOffset.TryGetValue(header.Code, out var at) && stream.Length - offset >= FrameHeader.Size + at + 4)
            {
                var field = stream[(offset + FrameHeader.Size + at)..];
                MemoryMarshal.Write(field, MemoryMarshal.Read<uint>(field) & ~ObjPermanent);
            }
            if (header.Length < FrameHeader.Size || header.Length > stream.Length - offset) return;
            offset += (int)header.Length;
        }
    }
}
