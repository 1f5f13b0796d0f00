namespace KernelBridge.Kernel.Win32k;

/// <summary>
/// win32k fails with Win32 errors (UserSetLastError). Here they travel as NTSTATUS in the Win32
/// facility (0xC007xxxx, NTSTATUS_FROM_WIN32), which RtlNtStatusToDosError turns back into the error.
/// </summary>
internal static class UserStatus
{
    public static NtStatus FromWin32(Win32Error error) => new(unchecked((int)(0xC0070000u | ((uint)error & 0xFFFF))));

    public static readonly NtStatus InvalidWindowHandle = FromWin32(Win32Error.ERROR_INVALID_WINDOW_HANDLE);
    public static readonly NtStatus InvalidThreadId = FromWin32(Win32Error.ERROR_INVALID_THREAD_ID);
    public static readonly NtStatus NotEnoughQuota = FromWin32(Win32Error.ERROR_NOT_ENOUGH_QUOTA);
    public static readonly NtStatus ClassAlreadyExists = FromWin32(Win32Error.ERROR_CLASS_ALREADY_EXISTS);
    public static readonly NtStatus ClassDoesNotExist = FromWin32(Win32Error.ERROR_CLASS_DOES_NOT_EXIST);
    public static readonly NtStatus ClassHasWindows = FromWin32(Win32Error.ERROR_CLASS_HAS_WINDOWS);
    public static readonly NtStatus CannotFindClass = FromWin32(Win32Error.ERROR_CANNOT_FIND_WND_CLASS);
    public static readonly NtStatus InvalidFlags = FromWin32(Win32Error.ERROR_INVALID_FLAGS);
    public static readonly NtStatus Timeout = FromWin32(Win32Error.ERROR_TIMEOUT);
    public static readonly NtStatus MessageSyncOnly = FromWin32(Win32Error.ERROR_MESSAGE_SYNC_ONLY);

    /// <summary>A sent message whose receiver died (or whose window went) before it answered: as Wine, access denied.</summary>
    public static readonly NtStatus ReceiverGone = NtStatus.STATUS_ACCESS_DENIED;
}
