using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

/// <summary>LPOVERLAPPED_COMPLETION_ROUTINE (ReadFileEx / WriteFileEx).</summary>
public unsafe delegate void OverlappedCompletionRoutine(uint errorCode, uint numberOfBytesTransferred, OVERLAPPED* overlapped);

/// <summary>OVERLAPPED_ENTRY, as GetQueuedCompletionStatusEx fills it (32 bytes on x64).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct OVERLAPPED_ENTRY
{
    public nuint lpCompletionKey;
    public OVERLAPPED* lpOverlapped;
    public nuint Internal;
    public uint dwNumberOfBytesTransferred;
}

public static unsafe partial class Kernel32
{
    public const byte FILE_SKIP_COMPLETION_PORT_ON_SUCCESS = 1;
    public const byte FILE_SKIP_SET_EVENT_ON_HANDLE = 2;

    /// <summary>HasOverlappedIoCompleted: Internal is no longer STATUS_PENDING.</summary>
    public static bool HasOverlappedIoCompleted(OVERLAPPED* overlapped) => (int)overlapped->Internal != NtStatus.STATUS_PENDING.Value;

    public static bool GetOverlappedResult(nint file, OVERLAPPED* overlapped, uint* numberOfBytesTransferred, bool wait) =>
        GetOverlappedResultEx(file, overlapped, numberOfBytesTransferred, wait ? INFINITE : 0, false);

    /// <summary>
    /// GetOverlappedResultEx: still pending with no wait is ERROR_IO_INCOMPLETE; a wait that times out
    /// or runs APCs fails with WAIT_TIMEOUT / WAIT_IO_COMPLETION; otherwise the bytes, and FALSE with
    /// the mapped error unless the request's status is NT_SUCCESS.
    /// </summary>
    public static bool GetOverlappedResultEx(nint file, OVERLAPPED* overlapped, uint* numberOfBytesTransferred, uint milliseconds, bool alertable)
    {
        var status = (NtStatus)(int)Volatile.Read(ref overlapped->Internal);
        if (status == NtStatus.STATUS_PENDING)
        {
            if (milliseconds == 0)
            {
                SetLastError(Win32Error.ERROR_IO_INCOMPLETE);
                return false;
            }
            var waitOn = overlapped->hEvent != 0 ? overlapped->hEvent & ~(nint)1 : file;
            var result = WaitForSingleObjectEx(waitOn, milliseconds, alertable);
            if (result == WAIT_FAILED) return false;
            if (result != WAIT_OBJECT_0)
            {
                SetLastError(result);
                return false;
            }
            status = (NtStatus)(int)Volatile.Read(ref overlapped->Internal);
            if (status == NtStatus.STATUS_PENDING) status = NtStatus.STATUS_SUCCESS;
        }
        if (numberOfBytesTransferred is not null) *numberOfBytesTransferred = (uint)overlapped->InternalHigh;
        return status.IsSuccess || Fail(status);
    }

    /// <summary>
    /// CreateIoCompletionPort: a new port (no existing one), and/or the file's association with a
    /// port and key. Associating twice, or a synchronous file, is ERROR_INVALID_PARAMETER.
    /// </summary>
    public static nint CreateIoCompletionPort(nint fileHandle, nint existingCompletionPort, nuint completionKey, uint numberOfConcurrentThreads)
    {
        var port = existingCompletionPort;
        var created = false;
        if (port == 0)
        {
            var status = Ntdll.NtCreateIoCompletion(&port, AccessMask.IO_COMPLETION_ALL_ACCESS, default, numberOfConcurrentThreads);
            if (!status.IsSuccess)
            {
                Fail(status);
                return 0;
            }
            created = true;
        }
        else if (fileHandle == INVALID_HANDLE_VALUE)
        {
            SetLastError(Win32Error.ERROR_INVALID_PARAMETER);
            return 0;
        }
        if (fileHandle != INVALID_HANDLE_VALUE)
        {
            var information = new FILE_COMPLETION_INFORMATION { Port = port, Key = (nint)completionKey };
            IO_STATUS_BLOCK iosb = default;
            var status = Ntdll.NtSetInformationFile(fileHandle, &iosb, &information, (uint)sizeof(FILE_COMPLETION_INFORMATION),
                FileInformationClass.FileCompletionInformation);
            if (!status.IsSuccess)
            {
                if (created) Ntdll.NtClose(port);
                Fail(status);
                return 0;
            }
        }
        return port;
    }

    /// <summary>
    /// GetQueuedCompletionStatus: TRUE for a packet whose status succeeded; FALSE with the packet's
    /// error and a non-null overlapped for a failed one; FALSE with a null overlapped and WAIT_TIMEOUT
    /// on timeout, ERROR_ABANDONED_WAIT_0 if the port closed.
    /// </summary>
    public static bool GetQueuedCompletionStatus(nint completionPort, uint* numberOfBytesTransferred, nuint* completionKey,
        OVERLAPPED** overlapped, uint milliseconds)
    {
        if (overlapped is not null) *overlapped = null;
        var timeout = Timeout(milliseconds);
        long value = timeout ?? 0;
        nint key, apcContext;
        IO_STATUS_BLOCK iosb;
        var status = Ntdll.NtRemoveIoCompletion(completionPort, &key, &apcContext, &iosb, timeout is null ? null : &value);
        if (status == NtStatus.STATUS_SUCCESS)
        {
            if (numberOfBytesTransferred is not null) *numberOfBytesTransferred = (uint)iosb.Information;
            if (completionKey is not null) *completionKey = (nuint)key;
            if (overlapped is not null) *overlapped = (OVERLAPPED*)apcContext;
            return iosb.NtStatus.IsSuccess || Fail(iosb.NtStatus);
        }
        return FailRemove(status);
    }

    private static bool FailRemove(NtStatus status)
    {
        if (status == NtStatus.STATUS_TIMEOUT) SetLastError(WAIT_TIMEOUT);
        else if (status == NtStatus.STATUS_ABANDONED_WAIT_0) SetLastError(Win32Error.ERROR_ABANDONED_WAIT_0);
        else if (status == NtStatus.STATUS_USER_APC) SetLastError(WAIT_IO_COMPLETION);
        else Fail(status);
        return false;
    }

    /// <summary>GetQueuedCompletionStatusEx: TRUE with at least one entry; an alertable wait that ran APCs is FALSE with WAIT_IO_COMPLETION.</summary>
    public static bool GetQueuedCompletionStatusEx(nint completionPort, OVERLAPPED_ENTRY* entries, uint count, uint* numEntriesRemoved,
        uint milliseconds, bool alertable)
    {
        if (entries is null || count == 0)
        {
            SetLastError(Win32Error.ERROR_INVALID_PARAMETER);
            return false;
        }
        var timeout = Timeout(milliseconds);
        long value = timeout ?? 0;
        var information = new FILE_IO_COMPLETION_INFORMATION[count];
        uint removed = 0;
        NtStatus status;
        fixed (FILE_IO_COMPLETION_INFORMATION* pointer = information)
            status = Ntdll.NtRemoveIoCompletionEx(completionPort, pointer, count, &removed, timeout is null ? null : &value, alertable);
        if (numEntriesRemoved is not null) *numEntriesRemoved = removed;
        if (status != NtStatus.STATUS_SUCCESS || removed == 0) return FailRemove(status == NtStatus.STATUS_SUCCESS ? NtStatus.STATUS_TIMEOUT : status);
        for (var i = 0; i < removed; i++)
        {
            entries[i].lpCompletionKey = (nuint)information[i].KeyContext;
            entries[i].lpOverlapped = (OVERLAPPED*)information[i].ApcContext;
            entries[i].Internal = (nuint)(uint)information[i].IoStatusBlock.Status;
            entries[i].dwNumberOfBytesTransferred = (uint)information[i].IoStatusBlock.Information;
        }
        return true;
    }

    /// <summary>PostQueuedCompletionStatus: a packet {key, overlapped, STATUS_SUCCESS, bytes}.</summary>
    public static bool PostQueuedCompletionStatus(nint completionPort, uint numberOfBytesTransferred, nuint completionKey, OVERLAPPED* overlapped) =>
        Check(Ntdll.NtSetIoCompletion(completionPort, (nint)completionKey, (nint)overlapped, NtStatus.STATUS_SUCCESS, numberOfBytesTransferred));

    /// <summary>SetFileCompletionNotificationModes: FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, FILE_SKIP_SET_EVENT_ON_HANDLE (modes are only added).</summary>
    public static bool SetFileCompletionNotificationModes(nint fileHandle, byte flags)
    {
        uint modes = flags;
        IO_STATUS_BLOCK iosb = default;
        return Check(Ntdll.NtSetInformationFile(fileHandle, &iosb, &modes, 4, FileInformationClass.FileIoCompletionNotificationInformation));
    }

    /// <summary>ReadFileEx: overlapped read whose routine runs (once, on this thread) in an alertable wait.</summary>
    public static bool ReadFileEx(nint file, void* buffer, uint numberOfBytesToRead, OVERLAPPED* overlapped, OverlappedCompletionRoutine completionRoutine) =>
        ReadWriteEx(file, buffer, numberOfBytesToRead, overlapped, completionRoutine, read: true);

    public static bool WriteFileEx(nint file, void* buffer, uint numberOfBytesToWrite, OVERLAPPED* overlapped, OverlappedCompletionRoutine completionRoutine) =>
        ReadWriteEx(file, buffer, numberOfBytesToWrite, overlapped, completionRoutine, read: false);

    private static bool ReadWriteEx(nint file, void* buffer, uint length, OVERLAPPED* overlapped, OverlappedCompletionRoutine routine, bool read)
    {
        if (overlapped is null || routine is null)
        {
            SetLastError(Win32Error.ERROR_INVALID_PARAMETER);
            return false;
        }
        overlapped->Internal = NtStatus.STATUS_PENDING.Value;
        overlapped->InternalHigh = 0;
        long offset = ((long)overlapped->OffsetHigh << 32) | overlapped->Offset;
        var context = GCHandle.ToIntPtr(GCHandle.Alloc(new IoApcState(routine)));
        var apc = (nint)(delegate* unmanaged<nint, nint, nint, void>)&IoApc;
        var iosb = (IO_STATUS_BLOCK*)overlapped;
        var status = read
            ? Ntdll.NtReadFile(file, 0, apc, context, iosb, buffer, length, &offset, null)
            : Ntdll.NtWriteFile(file, 0, apc, context, iosb, buffer, length, &offset, null);
        if (status.IsError && (int)overlapped->Internal == NtStatus.STATUS_PENDING.Value)
        {
            // Failed at once and never delivered: no APC will come.
            GCHandle.FromIntPtr(context).Free();
            return Fail(status);
        }
        return true;
    }

    private sealed record IoApcState(OverlappedCompletionRoutine Routine);

    /// <summary>The I/O APC behind ReadFileEx/WriteFileEx: calls the routine with the Win32 error and byte count.</summary>
    [UnmanagedCallersOnly]
    private static void IoApc(nint context, nint ioStatusBlock, nint reserved)
    {
        var handle = GCHandle.FromIntPtr(context);
        var state = (IoApcState)handle.Target!;
        handle.Free();
        var iosb = (IO_STATUS_BLOCK*)ioStatusBlock;
        state.Routine((uint)StatusMapping.RtlNtStatusToDosError(iosb->NtStatus), (uint)iosb->Information, (OVERLAPPED*)ioStatusBlock);
    }

    /// <summary>CancelIo: this thread's I/O on the file; waits for it to complete.</summary>
    public static bool CancelIo(nint file)
    {
        IO_STATUS_BLOCK iosb = default;
        return Check(Ntdll.NtCancelIoFile(file, &iosb));
    }

    /// <summary>CancelIoEx: the process's I/O on the file issued with <paramref name="overlapped"/> (or all); ERROR_NOT_FOUND if none.</summary>
    public static bool CancelIoEx(nint file, OVERLAPPED* overlapped)
    {
        IO_STATUS_BLOCK iosb = default;
        return Check(Ntdll.NtCancelIoFileEx(file, (IO_STATUS_BLOCK*)overlapped, &iosb));
    }

    /// <summary>CancelSynchronousIo: the synchronous I/O the thread is blocked in; ERROR_NOT_FOUND if none.</summary>
    public static bool CancelSynchronousIo(nint thread)
    {
        IO_STATUS_BLOCK iosb = default;
        return Check(Ntdll.NtCancelSynchronousIoFile(thread, null, &iosb));
    }
}
