using System.Collections.Frozen;
using System.Globalization;
using System.Reflection;

namespace KernelBridge.Abi;

/// <summary>
/// An NTSTATUS value: the kernel's error currency. The severity lives in the top two bits
/// (00 success, 01 informational, 10 warning, 11 error), exactly as on Windows.
/// </summary>
public readonly record struct NtStatus(int Value)
{
    public static implicit operator int(NtStatus status) => status.Value;
    public static explicit operator NtStatus(int value) => new(value);
    public static explicit operator NtStatus(uint value) => new(unchecked((int)value));

    public uint Code => unchecked((uint)Value);

    /// <summary>NT_SUCCESS: success or informational.</summary>
    public bool IsSuccess => Value >= 0;
    /// <summary>NT_INFORMATION: severity 01.</summary>
    public bool IsInformational => (Code >> 30) == 1;
    /// <summary>NT_WARNING: severity 10, e.g. STATUS_BUFFER_OVERFLOW.</summary>
    public bool IsWarning => (Code >> 30) == 2;
    /// <summary>NT_ERROR: severity 11.</summary>
    public bool IsError => (Code >> 30) == 3;

    /// <summary>The symbolic name (STATUS_ACCESS_DENIED), or null for a value the project does not name.</summary>
    public string? Name => NtStatusNames.TryGet(this);

    /// <summary>The value as Windows tools print it: 0xC0000022.</summary>
    public string Hex => "0x" + Code.ToString("X8", CultureInfo.InvariantCulture);

    public override string ToString() => Name is { } name ? $"{name} ({Hex})" : Hex;

    // Success and informational.
    public static readonly NtStatus STATUS_SUCCESS = new(0x00000000);
    public static readonly NtStatus STATUS_WAIT_0 = new(0x00000000);
    public static readonly NtStatus STATUS_WAIT_1 = new(0x00000001);
    public static readonly NtStatus STATUS_WAIT_63 = new(0x0000003F);
    public static readonly NtStatus STATUS_ABANDONED_WAIT_0 = new(0x00000080);
    public static readonly NtStatus STATUS_ABANDONED_WAIT_63 = new(0x000000BF);
    public static readonly NtStatus STATUS_USER_APC = new(0x000000C0);
    public static readonly NtStatus STATUS_KERNEL_APC = new(0x00000100);
    public static readonly NtStatus STATUS_ALERTED = new(0x00000101);
    public static readonly NtStatus STATUS_TIMEOUT = new(0x00000102);
    public static readonly NtStatus STATUS_PENDING = new(0x00000103);
    public static readonly NtStatus STATUS_REPARSE = new(0x00000104);
    public static readonly NtStatus STATUS_MORE_ENTRIES = new(0x00000105);
    public static readonly NtStatus STATUS_NOT_ALL_ASSIGNED = new(0x00000106);
    public static readonly NtStatus STATUS_SOME_NOT_MAPPED = new(0x00000107);
    public static readonly NtStatus STATUS_OBJECT_NAME_EXISTS = new(0x40000000);

    // Warnings.
    public static readonly NtStatus STATUS_DATATYPE_MISALIGNMENT = (NtStatus)0x80000002u;
    public static readonly NtStatus STATUS_BUFFER_OVERFLOW = (NtStatus)0x80000005u;
    public static readonly NtStatus STATUS_NO_MORE_FILES = (NtStatus)0x80000006u;
    public static readonly NtStatus STATUS_DEVICE_BUSY = (NtStatus)0x80000011u;
    public static readonly NtStatus STATUS_VERIFY_REQUIRED = (NtStatus)0x80000016u;
    public static readonly NtStatus STATUS_NO_MORE_ENTRIES = (NtStatus)0x8000001Au;
    /// <summary>FilterReplyMessage to a message nobody waits for (unknown, answered, or timed out).</summary>
    public static readonly NtStatus STATUS_FLT_NO_WAITER_FOR_REPLY = (NtStatus)0x801C0020u;

    // Errors.
    public static readonly NtStatus STATUS_UNSUCCESSFUL = (NtStatus)0xC0000001u;
    public static readonly NtStatus STATUS_NOT_IMPLEMENTED = (NtStatus)0xC0000002u;
    public static readonly NtStatus STATUS_INVALID_INFO_CLASS = (NtStatus)0xC0000003u;
    public static readonly NtStatus STATUS_INFO_LENGTH_MISMATCH = (NtStatus)0xC0000004u;
    public static readonly NtStatus STATUS_ACCESS_VIOLATION = (NtStatus)0xC0000005u;
    public static readonly NtStatus STATUS_INVALID_HANDLE = (NtStatus)0xC0000008u;
    public static readonly NtStatus STATUS_INVALID_CID = (NtStatus)0xC000000Bu;
    public static readonly NtStatus STATUS_TIMER_NOT_CANCELED = (NtStatus)0xC000000Cu;
    public static readonly NtStatus STATUS_INVALID_PARAMETER = (NtStatus)0xC000000Du;
    public static readonly NtStatus STATUS_INVALID_SYSTEM_SERVICE = (NtStatus)0xC000001Cu;
    public static readonly NtStatus STATUS_NO_SUCH_DEVICE = (NtStatus)0xC000000Eu;
    public static readonly NtStatus STATUS_NO_SUCH_FILE = (NtStatus)0xC000000Fu;
    public static readonly NtStatus STATUS_INVALID_DEVICE_REQUEST = (NtStatus)0xC0000010u;
    public static readonly NtStatus STATUS_END_OF_FILE = (NtStatus)0xC0000011u;
    public static readonly NtStatus STATUS_MORE_PROCESSING_REQUIRED = (NtStatus)0xC0000016u;
    public static readonly NtStatus STATUS_NO_MEMORY = (NtStatus)0xC0000017u;
    public static readonly NtStatus STATUS_ACCESS_DENIED = (NtStatus)0xC0000022u;
    public static readonly NtStatus STATUS_BUFFER_TOO_SMALL = (NtStatus)0xC0000023u;
    public static readonly NtStatus STATUS_OBJECT_TYPE_MISMATCH = (NtStatus)0xC0000024u;
    public static readonly NtStatus STATUS_INVALID_PARAMETER_MIX = (NtStatus)0xC0000030u;
    public static readonly NtStatus STATUS_OBJECT_NAME_INVALID = (NtStatus)0xC0000033u;
    public static readonly NtStatus STATUS_OBJECT_NAME_NOT_FOUND = (NtStatus)0xC0000034u;
    public static readonly NtStatus STATUS_OBJECT_NAME_COLLISION = (NtStatus)0xC0000035u;
    public static readonly NtStatus STATUS_PORT_DISCONNECTED = (NtStatus)0xC0000037u;
    public static readonly NtStatus STATUS_OBJECT_PATH_INVALID = (NtStatus)0xC0000039u;
    public static readonly NtStatus STATUS_OBJECT_PATH_NOT_FOUND = (NtStatus)0xC000003Au;
    public static readonly NtStatus STATUS_OBJECT_PATH_SYNTAX_BAD = (NtStatus)0xC000003Bu;
    public static readonly NtStatus STATUS_PORT_CONNECTION_REFUSED = (NtStatus)0xC0000041u;
    public static readonly NtStatus STATUS_INVALID_PORT_HANDLE = (NtStatus)0xC0000042u;
    public static readonly NtStatus STATUS_SHARING_VIOLATION = (NtStatus)0xC0000043u;
    public static readonly NtStatus STATUS_QUOTA_EXCEEDED = (NtStatus)0xC0000044u;
    public static readonly NtStatus STATUS_MUTANT_NOT_OWNED = (NtStatus)0xC0000046u;
    public static readonly NtStatus STATUS_SEMAPHORE_LIMIT_EXCEEDED = (NtStatus)0xC0000047u;
    public static readonly NtStatus STATUS_THREAD_IS_TERMINATING = (NtStatus)0xC000004Bu;
    public static readonly NtStatus STATUS_DELETE_PENDING = (NtStatus)0xC0000056u;
    public static readonly NtStatus STATUS_UNKNOWN_REVISION = (NtStatus)0xC0000058u;
    public static readonly NtStatus STATUS_REVISION_MISMATCH = (NtStatus)0xC0000059u;
    public static readonly NtStatus STATUS_INVALID_OWNER = (NtStatus)0xC000005Au;
    public static readonly NtStatus STATUS_INVALID_PRIMARY_GROUP = (NtStatus)0xC000005Bu;
    public static readonly NtStatus STATUS_NO_SUCH_PRIVILEGE = (NtStatus)0xC0000060u;
    public static readonly NtStatus STATUS_PRIVILEGE_NOT_HELD = (NtStatus)0xC0000061u;
    public static readonly NtStatus STATUS_NONE_MAPPED = (NtStatus)0xC0000073u;
    public static readonly NtStatus STATUS_INVALID_ACL = (NtStatus)0xC0000077u;
    public static readonly NtStatus STATUS_INVALID_SID = (NtStatus)0xC0000078u;
    public static readonly NtStatus STATUS_INVALID_SECURITY_DESCR = (NtStatus)0xC0000079u;
    public static readonly NtStatus STATUS_NO_TOKEN = (NtStatus)0xC000007Cu;
    public static readonly NtStatus STATUS_PROCEDURE_NOT_FOUND = (NtStatus)0xC000007Au;
    public static readonly NtStatus STATUS_INVALID_IMAGE_FORMAT = (NtStatus)0xC000007Bu;
    public static readonly NtStatus STATUS_INSUFFICIENT_RESOURCES = (NtStatus)0xC000009Au;
    public static readonly NtStatus STATUS_DEVICE_NOT_READY = (NtStatus)0xC00000A3u;
    public static readonly NtStatus STATUS_BAD_IMPERSONATION_LEVEL = (NtStatus)0xC00000A5u;
    public static readonly NtStatus STATUS_CANT_OPEN_ANONYMOUS = (NtStatus)0xC00000A6u;
    public static readonly NtStatus STATUS_ILLEGAL_FUNCTION = (NtStatus)0xC00000AFu;
    public static readonly NtStatus STATUS_PIPE_BROKEN = (NtStatus)0xC000014Bu;
    public static readonly NtStatus STATUS_IO_TIMEOUT = (NtStatus)0xC00000B5u;
    public static readonly NtStatus STATUS_FILE_IS_A_DIRECTORY = (NtStatus)0xC00000BAu;
    public static readonly NtStatus STATUS_NOT_SUPPORTED = (NtStatus)0xC00000BBu;
    public static readonly NtStatus STATUS_BAD_DEVICE_TYPE = (NtStatus)0xC00000CBu;
    /// <summary>The server already has as many connections as it accepts (ERROR_REQ_NOT_ACCEP).</summary>
    public static readonly NtStatus STATUS_REQUEST_NOT_ACCEPTED = (NtStatus)0xC00000D0u;
    public static readonly NtStatus STATUS_NOT_SAME_DEVICE = (NtStatus)0xC00000D4u;
    public static readonly NtStatus STATUS_NO_SECURITY_ON_OBJECT = (NtStatus)0xC00000D7u;
    public static readonly NtStatus STATUS_INTERNAL_ERROR = (NtStatus)0xC00000E5u;
    public static readonly NtStatus STATUS_INVALID_USER_BUFFER = (NtStatus)0xC00000E8u;
    public static readonly NtStatus STATUS_INVALID_PARAMETER_1 = (NtStatus)0xC00000EFu;
    public static readonly NtStatus STATUS_INVALID_PARAMETER_2 = (NtStatus)0xC00000F0u;
    public static readonly NtStatus STATUS_INVALID_PARAMETER_3 = (NtStatus)0xC00000F1u;
    public static readonly NtStatus STATUS_INVALID_PARAMETER_4 = (NtStatus)0xC00000F2u;
    public static readonly NtStatus STATUS_INVALID_PARAMETER_5 = (NtStatus)0xC00000F3u;
    public static readonly NtStatus STATUS_INVALID_PARAMETER_6 = (NtStatus)0xC00000F4u;
    public static readonly NtStatus STATUS_INVALID_PARAMETER_7 = (NtStatus)0xC00000F5u;
    public static readonly NtStatus STATUS_INVALID_PARAMETER_8 = (NtStatus)0xC00000F6u;
    public static readonly NtStatus STATUS_INVALID_PARAMETER_9 = (NtStatus)0xC00000F7u;
    public static readonly NtStatus STATUS_NOT_MAPPED_DATA = (NtStatus)0xC0000088u;
    public static readonly NtStatus STATUS_DISK_FULL = (NtStatus)0xC000007Fu;
    public static readonly NtStatus STATUS_DIRECTORY_NOT_EMPTY = (NtStatus)0xC0000101u;
    public static readonly NtStatus STATUS_CANNOT_DELETE = (NtStatus)0xC0000121u;
    public static readonly NtStatus STATUS_FILE_DELETED = (NtStatus)0xC0000123u;
    public static readonly NtStatus STATUS_NOT_A_DIRECTORY = (NtStatus)0xC0000103u;
    public static readonly NtStatus STATUS_PROCESS_IS_TERMINATING = (NtStatus)0xC000010Au;
    public static readonly NtStatus STATUS_IMAGE_ALREADY_LOADED = (NtStatus)0xC000010Eu;
    public static readonly NtStatus STATUS_CANCELLED = (NtStatus)0xC0000120u;
    public static readonly NtStatus STATUS_FILE_CLOSED = (NtStatus)0xC0000128u;
    public static readonly NtStatus STATUS_DLL_NOT_FOUND = (NtStatus)0xC0000135u;
    public static readonly NtStatus STATUS_INVALID_ADDRESS = (NtStatus)0xC0000141u;
    public static readonly NtStatus STATUS_CONFLICTING_ADDRESSES = (NtStatus)0xC0000018u;
    public static readonly NtStatus STATUS_NOT_MAPPED_VIEW = (NtStatus)0xC0000019u;
    public static readonly NtStatus STATUS_INVALID_VIEW_SIZE = (NtStatus)0xC000001Fu;
    public static readonly NtStatus STATUS_INVALID_FILE_FOR_SECTION = (NtStatus)0xC0000020u;
    public static readonly NtStatus STATUS_SECTION_TOO_BIG = (NtStatus)0xC0000040u;
    public static readonly NtStatus STATUS_INVALID_PAGE_PROTECTION = (NtStatus)0xC0000045u;
    public static readonly NtStatus STATUS_SECTION_NOT_IMAGE = (NtStatus)0xC0000049u;
    public static readonly NtStatus STATUS_SECTION_PROTECTION = (NtStatus)0xC000004Eu;
    public static readonly NtStatus STATUS_COMMITMENT_LIMIT = (NtStatus)0xC000012Du;
    public static readonly NtStatus STATUS_MAPPED_ALIGNMENT = (NtStatus)0xC0000220u;
    public static readonly NtStatus STATUS_MUTANT_LIMIT_EXCEEDED = (NtStatus)0xC0000191u;
    public static readonly NtStatus STATUS_DRIVER_INTERNAL_ERROR = (NtStatus)0xC0000183u;
    public static readonly NtStatus STATUS_INVALID_DEVICE_STATE = (NtStatus)0xC0000184u;
    public static readonly NtStatus STATUS_IO_DEVICE_ERROR = (NtStatus)0xC0000185u;
    public static readonly NtStatus STATUS_POSSIBLE_DEADLOCK = (NtStatus)0xC0000194u;
    public static readonly NtStatus STATUS_NOT_FOUND = (NtStatus)0xC0000225u;
    public static readonly NtStatus STATUS_HANDLE_NOT_CLOSABLE = (NtStatus)0xC0000235u;
    public static readonly NtStatus STATUS_CONNECTION_REFUSED = (NtStatus)0xC0000236u;
    public static readonly NtStatus STATUS_REQUEST_ABORTED = (NtStatus)0xC0000240u;
    public static readonly NtStatus STATUS_CONNECTION_COUNT_LIMIT = (NtStatus)0xC0000246u;
    public static readonly NtStatus STATUS_LPC_REPLY_LOST = (NtStatus)0xC0000253u;
    public static readonly NtStatus STATUS_DRIVER_UNABLE_TO_LOAD = (NtStatus)0xC000026Cu;
    public static readonly NtStatus STATUS_OBJECTID_NOT_FOUND = (NtStatus)0xC00002F0u;
    // The filter manager's (FACILITY_FILTER_MANAGER, 0x1C).
    public static readonly NtStatus STATUS_FLT_CONTEXT_ALREADY_DEFINED = (NtStatus)0xC01C0002u;
    public static readonly NtStatus STATUS_FLT_DELETING_OBJECT = (NtStatus)0xC01C000Bu;
    public static readonly NtStatus STATUS_FLT_DO_NOT_ATTACH = (NtStatus)0xC01C000Fu;
    public static readonly NtStatus STATUS_FLT_DO_NOT_DETACH = (NtStatus)0xC01C0010u;
    public static readonly NtStatus STATUS_FLT_INSTANCE_ALTITUDE_COLLISION = (NtStatus)0xC01C0011u;
}

/// <summary>Names for the statuses declared on <see cref="NtStatus"/>; built once, on first use (a cold path).</summary>
public static class NtStatusNames
{
    private static readonly FrozenDictionary<int, string> NameByValue = BuildNames();
    private static readonly FrozenDictionary<string, NtStatus> ValueByName = BuildValues();

    public static string? TryGet(NtStatus status) => NameByValue.TryGetValue(status.Value, out var name) ? name : null;

    /// <summary>Parses a name (STATUS_ACCESS_DENIED) or a number (0xC0000022, 3221225506).</summary>
    public static bool TryParse(string text, out NtStatus status)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (ValueByName.TryGetValue(text.Trim(), out status)) return true;
        var t = text.Trim();
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            && uint.TryParse(t.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex))
        {
            status = (NtStatus)hex;
            return true;
        }
        if (long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out var dec) && dec is >= int.MinValue and <= uint.MaxValue)
        {
            status = new NtStatus(unchecked((int)dec));
            return true;
        }
        status = default;
        return false;
    }

    public static IEnumerable<KeyValuePair<string, NtStatus>> All => ValueByName;

    private static IEnumerable<(string Name, NtStatus Value)> Declared() =>
        typeof(NtStatus).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.FieldType == typeof(NtStatus))
            .Select(f => (f.Name, (NtStatus)f.GetValue(null)!));

    private static FrozenDictionary<int, string> BuildNames()
    {
        var names = new Dictionary<int, string>();
        foreach (var (name, value) in Declared())
        {
            // Aliases (STATUS_WAIT_0 == STATUS_SUCCESS) keep the first, canonical name.
            names.TryAdd(value.Value, name);
        }
        return names.ToFrozenDictionary();
    }

    private static FrozenDictionary<string, NtStatus> BuildValues() =>
        Declared().ToFrozenDictionary(d => d.Name, d => d.Value, StringComparer.OrdinalIgnoreCase);
}
