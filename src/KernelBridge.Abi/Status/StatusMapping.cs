using System.Collections.Frozen;

namespace KernelBridge.Abi;

/// <summary>RtlNtStatusToDosError: the Win32 error a status becomes, with Windows' table and rules.</summary>
public static class StatusMapping
{
    private static readonly FrozenDictionary<uint, Win32Error> Table = new Dictionary<uint, Win32Error>
    {
        [0x00000001] = Win32Error.ERROR_WAIT_1,
        [0x0000003F] = Win32Error.ERROR_WAIT_63,
        [0x00000080] = Win32Error.ERROR_WAIT_NO_CHILDREN,
        [0x000000BF] = Win32Error.ERROR_ABANDONED_WAIT_63,
        [0x000000C0] = Win32Error.ERROR_USER_APC,
        [0x00000100] = Win32Error.ERROR_KERNEL_APC,
        [0x00000101] = Win32Error.ERROR_ALERTED,
        [0x00000102] = Win32Error.ERROR_TIMEOUT,
        [0x00000103] = Win32Error.ERROR_IO_PENDING,
        [0x00000104] = Win32Error.ERROR_REPARSE,
        [0x00000105] = Win32Error.ERROR_MORE_DATA,
        [0x00000106] = Win32Error.ERROR_NOT_ALL_ASSIGNED,
        [0x00000107] = Win32Error.ERROR_SOME_NOT_MAPPED,
        [0x40000000] = Win32Error.ERROR_OBJECT_NAME_EXISTS,
        [0x80000002] = Win32Error.ERROR_NOACCESS,
        [0x80000005] = Win32Error.ERROR_MORE_DATA,
        [0x80000006] = Win32Error.ERROR_NO_MORE_FILES,
        [0x80000011] = Win32Error.ERROR_BUSY,
        [0x80000016] = Win32Error.ERROR_MEDIA_CHANGED,
        [0x8000001A] = Win32Error.ERROR_NO_MORE_ITEMS,
        [0x801C0020] = Win32Error.ERROR_FLT_NO_WAITER_FOR_REPLY,
        [0xC0000001] = Win32Error.ERROR_GEN_FAILURE,
        [0xC0000002] = Win32Error.ERROR_INVALID_FUNCTION,
        [0xC0000003] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC0000004] = Win32Error.ERROR_BAD_LENGTH,
        [0xC0000005] = Win32Error.ERROR_NOACCESS,
        [0xC0000008] = Win32Error.ERROR_INVALID_HANDLE,
        [0xC000000B] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC000000C] = Win32Error.ERROR_TIMER_NOT_CANCELED,
        [0xC000000D] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC000000E] = Win32Error.ERROR_NO_SUCH_DEVICE,
        [0xC000000F] = Win32Error.ERROR_FILE_NOT_FOUND,
        [0xC0000010] = Win32Error.ERROR_INVALID_FUNCTION,
        [0xC0000011] = Win32Error.ERROR_HANDLE_EOF,
        [0xC0000016] = Win32Error.ERROR_MORE_DATA,
        [0xC0000017] = Win32Error.ERROR_NOT_ENOUGH_MEMORY,
        [0xC0000018] = Win32Error.ERROR_INVALID_ADDRESS,
        [0xC0000019] = Win32Error.ERROR_INVALID_ADDRESS,
        [0xC000001C] = Win32Error.ERROR_INVALID_FUNCTION,
        [0xC000001F] = Win32Error.ERROR_ACCESS_DENIED,
        [0xC0000020] = Win32Error.ERROR_BAD_EXE_FORMAT,
        [0xC0000022] = Win32Error.ERROR_ACCESS_DENIED,
        [0xC0000023] = Win32Error.ERROR_INSUFFICIENT_BUFFER,
        [0xC0000024] = Win32Error.ERROR_INVALID_HANDLE,
        [0xC0000030] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC0000033] = Win32Error.ERROR_INVALID_NAME,
        [0xC0000034] = Win32Error.ERROR_FILE_NOT_FOUND,
        [0xC0000035] = Win32Error.ERROR_ALREADY_EXISTS,
        [0xC0000037] = Win32Error.ERROR_INVALID_HANDLE,
        [0xC0000039] = Win32Error.ERROR_BAD_PATHNAME,
        [0xC000003A] = Win32Error.ERROR_PATH_NOT_FOUND,
        [0xC000003B] = Win32Error.ERROR_BAD_PATHNAME,
        [0xC0000040] = Win32Error.ERROR_NOT_ENOUGH_MEMORY,
        [0xC0000041] = Win32Error.ERROR_ACCESS_DENIED,
        [0xC0000042] = Win32Error.ERROR_INVALID_HANDLE,
        [0xC0000043] = Win32Error.ERROR_SHARING_VIOLATION,
        [0xC0000044] = Win32Error.ERROR_NOT_ENOUGH_QUOTA,
        [0xC0000045] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC0000046] = Win32Error.ERROR_NOT_OWNER,
        [0xC0000047] = Win32Error.ERROR_TOO_MANY_POSTS,
        [0xC0000049] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC000004B] = Win32Error.ERROR_ACCESS_DENIED,
        [0xC000004E] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC0000056] = Win32Error.ERROR_ACCESS_DENIED,
        [0xC0000059] = Win32Error.ERROR_REVISION_MISMATCH,
        [0xC0000060] = Win32Error.ERROR_NO_SUCH_PRIVILEGE,
        [0xC0000061] = Win32Error.ERROR_PRIVILEGE_NOT_HELD,
        [0xC000007A] = Win32Error.ERROR_PROC_NOT_FOUND,
        [0xC000007B] = Win32Error.ERROR_BAD_EXE_FORMAT,
        [0xC000007F] = Win32Error.ERROR_DISK_FULL,
        [0xC0000088] = Win32Error.ERROR_INVALID_ADDRESS,
        [0xC000009A] = Win32Error.ERROR_NO_SYSTEM_RESOURCES,
        [0xC00000A3] = Win32Error.ERROR_NOT_READY,
        [0xC00000AF] = Win32Error.ERROR_INVALID_FUNCTION,
        [0xC00000B5] = Win32Error.ERROR_SEM_TIMEOUT,
        [0xC00000BA] = Win32Error.ERROR_ACCESS_DENIED,
        [0xC00000BB] = Win32Error.ERROR_NOT_SUPPORTED,
        [0xC00000CB] = Win32Error.ERROR_BAD_DEV_TYPE,
        [0xC00000D0] = Win32Error.ERROR_REQ_NOT_ACCEP,
        [0xC00000D4] = Win32Error.ERROR_NOT_SAME_DEVICE,
        [0xC00000E5] = Win32Error.ERROR_INTERNAL_ERROR,
        [0xC00000E8] = Win32Error.ERROR_INVALID_USER_BUFFER,
        [0xC00000EF] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC00000F0] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC00000F1] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC00000F2] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC00000F3] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC00000F4] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC00000F5] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC00000F6] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC00000F7] = Win32Error.ERROR_INVALID_PARAMETER,
        [0xC0000101] = Win32Error.ERROR_DIR_NOT_EMPTY,
        [0xC0000103] = Win32Error.ERROR_DIRECTORY,
        [0xC000010A] = Win32Error.ERROR_ACCESS_DENIED,
        [0xC000010E] = Win32Error.ERROR_SERVICE_ALREADY_RUNNING,
        [0xC0000120] = Win32Error.ERROR_OPERATION_ABORTED,
        [0xC0000121] = Win32Error.ERROR_ACCESS_DENIED,
        [0xC0000123] = Win32Error.ERROR_ACCESS_DENIED,
        [0xC0000128] = Win32Error.ERROR_INVALID_HANDLE,
        [0xC000012D] = Win32Error.ERROR_COMMITMENT_LIMIT,
        [0xC0000135] = Win32Error.ERROR_MOD_NOT_FOUND,
        [0xC0000141] = Win32Error.ERROR_UNEXP_NET_ERR,
        [0xC000014B] = Win32Error.ERROR_BROKEN_PIPE,
        [0xC0000183] = Win32Error.ERROR_IO_DEVICE,
        [0xC0000184] = Win32Error.ERROR_BAD_COMMAND,
        [0xC0000185] = Win32Error.ERROR_IO_DEVICE,
        [0xC0000191] = Win32Error.ERROR_MUTANT_LIMIT_EXCEEDED,
        [0xC0000194] = Win32Error.ERROR_POSSIBLE_DEADLOCK,
        [0xC0000220] = Win32Error.ERROR_MAPPED_ALIGNMENT,
        [0xC0000225] = Win32Error.ERROR_NOT_FOUND,
        [0xC0000235] = Win32Error.ERROR_INVALID_HANDLE,
        [0xC0000236] = Win32Error.ERROR_CONNECTION_REFUSED,
        [0xC0000240] = Win32Error.ERROR_REQUEST_ABORTED,
        [0xC0000246] = Win32Error.ERROR_CONNECTION_COUNT_LIMIT,
        [0xC0000253] = Win32Error.ERROR_CONNECTION_ABORTED,
        [0xC000026C] = Win32Error.ERROR_BAD_DRIVER,
        [0xC00002F0] = Win32Error.ERROR_FILE_NOT_FOUND,
        [0xC01C0002] = Win32Error.ERROR_FLT_CONTEXT_ALREADY_DEFINED,
        [0xC01C000B] = Win32Error.ERROR_FLT_DELETING_OBJECT,
        [0xC01C000F] = Win32Error.ERROR_FLT_DO_NOT_ATTACH,
        [0xC01C0010] = Win32Error.ERROR_FLT_DO_NOT_DETACH,
        [0xC01C0011] = Win32Error.ERROR_FLT_INSTANCE_ALTITUDE_COLLISION,
    }.ToFrozenDictionary();

    /// <summary>
    /// RtlNtStatusToDosError. Success is 0; customer codes (bit 29) come back unchanged; the
    /// Win32-facility shapes 0x8007xxxx, 0xC007xxxx and 0xC001xxxx give their low word; a status the
    /// table does not know gives ERROR_MR_MID_NOT_FOUND (317).
    /// </summary>
    public static Win32Error RtlNtStatusToDosError(NtStatus status)
    {
        var code = status.Code;
        if (code == 0) return Win32Error.ERROR_SUCCESS;
        if ((code & 0x20000000) != 0) return (Win32Error)code;
        if ((code & 0xF0000000) == 0xD0000000) code &= ~0x10000000u;
        var high = code >> 16;
        if (high is 0x8007 or 0xC007 or 0xC001) return (Win32Error)(code & 0xFFFF);
        return Table.TryGetValue(code, out var error) ? error : Win32Error.ERROR_MR_MID_NOT_FOUND;
    }

    /// <summary>The error's symbolic name, or its number.</summary>
    public static string Name(Win32Error error) =>
        Enum.IsDefined(error) ? error.ToString() : ((uint)error).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
