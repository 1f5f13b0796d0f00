using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Native;

/// <summary>FILE_IO_COMPLETION_INFORMATION (x64): {KeyContext, ApcContext, IoStatusBlock}, 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FILE_IO_COMPLETION_INFORMATION
{
    public nint KeyContext;
    public nint ApcContext;
    public IO_STATUS_BLOCK IoStatusBlock;
}

/// <summary>FILE_COMPLETION_INFORMATION: the port to associate a file with, and the key its packets carry.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FILE_COMPLETION_INFORMATION
{
    public nint Port;
    public nint Key;
}

public static unsafe partial class Ntdll
{
    public static NtStatus NtCreateIoCompletion(nint* ioCompletionHandle, uint desiredAccess, ObjectAttributes objectAttributes, uint numberOfConcurrentThreads) =>
        NtCreateIoCompletion(null, ioCompletionHandle, desiredAccess, objectAttributes, numberOfConcurrentThreads);

    internal static NtStatus NtCreateIoCompletion(GateClient? gate, nint* ioCompletionHandle, uint desiredAccess, ObjectAttributes objectAttributes,
        uint numberOfConcurrentThreads)
    {
        if (!BeginOpen(ref gate, ioCompletionHandle, out var status)) return status;
        status = Syscalls.NtCreateIoCompletion(gate, new NtCreateIoCompletionRequest(objectAttributes.RootDirectory, desiredAccess,
            (uint)objectAttributes.Attributes, numberOfConcurrentThreads, 0, 0), new(NameOf(objectAttributes), objectAttributes.SecurityDescriptor), out var reply);
        return HandleOut(ioCompletionHandle, status, reply);
    }

    public static NtStatus NtOpenIoCompletion(nint* ioCompletionHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        GateClient? gate = null;
        if (!BeginOpen(ref gate, ioCompletionHandle, out var status)) return status;
        status = Syscalls.NtOpenIoCompletion(gate, new NtOpenIoCompletionRequest(objectAttributes.RootDirectory, desiredAccess,
            (uint)objectAttributes.Attributes, 0, 0), new(NameOf(objectAttributes)), out var reply);
        return HandleOut(ioCompletionHandle, status, reply);
    }

    /// <summary>NtSetIoCompletion: queues a packet {key, apcContext, status, information}.</summary>
    public static NtStatus NtSetIoCompletion(nint ioCompletionHandle, nint keyContext, nint apcContext, NtStatus ioStatus, nuint ioStatusInformation)
    {
        if (!TryCurrentGate(out var gate, out var status)) return status;
        return Syscalls.NtSetIoCompletion(gate, new NtSetIoCompletionRequest(ioCompletionHandle, (ulong)keyContext, (ulong)apcContext,
            ioStatus, 0, (long)ioStatusInformation), out _);
    }

    /// <summary>NtRemoveIoCompletion: one packet, STATUS_TIMEOUT, or STATUS_ABANDONED_WAIT_0 if the port closes under the wait.</summary>
    public static NtStatus NtRemoveIoCompletion(nint ioCompletionHandle, nint* keyContext, nint* apcContext, IO_STATUS_BLOCK* ioStatusBlock, long* timeout)
    {
        FILE_IO_COMPLETION_INFORMATION entry;
        uint removed;
        var status = Remove(ioCompletionHandle, &entry, 1, &removed, timeout, alertable: false);
        if (status == NtStatus.STATUS_SUCCESS && removed == 1)
        {
            if (keyContext is not null) *keyContext = entry.KeyContext;
            if (apcContext is not null) *apcContext = entry.ApcContext;
            if (ioStatusBlock is not null) *ioStatusBlock = entry.IoStatusBlock;
        }
        return status;
    }

    /// <summary>NtRemoveIoCompletionEx: up to <paramref name="count"/> packets; an alertable wait may run APCs (STATUS_USER_APC).</summary>
    public static NtStatus NtRemoveIoCompletionEx(nint ioCompletionHandle, FILE_IO_COMPLETION_INFORMATION* information, uint count,
        uint* numEntriesRemoved, long* timeout, bool alertable) =>
        Remove(ioCompletionHandle, information, count, numEntriesRemoved, timeout, alertable);

    private static NtStatus Remove(nint port, FILE_IO_COMPLETION_INFORMATION* information, uint count, uint* removed, long* timeout, bool alertable)
    {
        if (information is null || count == 0) return NtStatus.STATUS_INVALID_PARAMETER;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        using var answer = Syscalls.NtRemoveIoCompletion(gate, new NtRemoveIoCompletionRequest(port, count,
            alertable ? 1u : 0, timeout is null ? 0u : 1, 0, timeout is null ? 0 : *timeout));
        var reply = answer.Reply;
        var data = RemoveIoCompletionReply.ReadData(in reply, answer.Data);
        var packets = data.Packets;
        for (var i = 0; i < packets.Length; i++)
        {
            information[i].KeyContext = (nint)packets[i].KeyContext;
            information[i].ApcContext = (nint)packets[i].ApcContext;
            information[i].IoStatusBlock.Information = (nuint)packets[i].Information;
            information[i].IoStatusBlock.Status = packets[i].Status;
        }
        if (removed is not null) *removed = (uint)packets.Length;
        RunApcs(data.Apcs);
        return answer.Status;
    }

    /// <summary>NtQueryIoCompletion(IoCompletionBasicInformation): how many packets are queued.</summary>
    public static NtStatus NtQueryIoCompletion(nint ioCompletionHandle, out int depth)
    {
        depth = 0;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        status = Syscalls.NtQueryIoCompletion(gate, new NtQueryIoCompletionRequest(ioCompletionHandle), out var reply);
        depth = reply.State;
        return status;
    }

    /// <summary>NtSetInformationFile: FileCompletionInformation, FileIoCompletionNotificationInformation, FilePositionInformation.</summary>
    public static NtStatus NtSetInformationFile(nint fileHandle, IO_STATUS_BLOCK* ioStatusBlock, void* fileInformation, uint length,
        FileInformationClass fileInformationClass) =>
        NtSetInformationFile(null, fileHandle, ioStatusBlock, fileInformation, length, fileInformationClass);

    internal static NtStatus NtSetInformationFile(GateClient? gate, nint fileHandle, IO_STATUS_BLOCK* ioStatusBlock, void* fileInformation, uint length,
        FileInformationClass fileInformationClass)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (fileInformation is null && length != 0) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        return Syscalls.NtSetInformationFile(gate, new NtSetInformationFileRequest(fileHandle, (ulong)ioStatusBlock, (uint)fileInformationClass, 0),
            new(new ReadOnlySpan<byte>(fileInformation, (int)length)), new IoTarget(ioStatusBlock, null, 0));
    }

    /// <summary>NtCancelIoFile: this thread's I/O on the file; returns once it has completed.</summary>
    public static NtStatus NtCancelIoFile(nint fileHandle, IO_STATUS_BLOCK* ioStatusBlock)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        return Syscalls.NtCancelIoFile(gate, new NtCancelIoFileRequest(fileHandle), new IoTarget(ioStatusBlock, null, 0));
    }

    /// <summary>NtCancelIoFileEx: the process's I/O on the file issued with <paramref name="ioRequestToCancel"/> (or all); STATUS_NOT_FOUND if none.</summary>
    public static NtStatus NtCancelIoFileEx(nint fileHandle, IO_STATUS_BLOCK* ioRequestToCancel, IO_STATUS_BLOCK* ioStatusBlock) =>
        NtCancelIoFileEx(null, fileHandle, ioRequestToCancel, ioStatusBlock);

    internal static NtStatus NtCancelIoFileEx(GateClient? gate, nint fileHandle, IO_STATUS_BLOCK* ioRequestToCancel, IO_STATUS_BLOCK* ioStatusBlock)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        return Syscalls.NtCancelIoFileEx(gate, new NtCancelIoFileExRequest(fileHandle, (ulong)ioRequestToCancel), new IoTarget(ioStatusBlock, null, 0));
    }

    /// <summary>NtCancelSynchronousIoFile: the synchronous I/O the thread is blocked in; STATUS_NOT_FOUND if none.</summary>
    public static NtStatus NtCancelSynchronousIoFile(nint threadHandle, IO_STATUS_BLOCK* ioRequestToCancel, IO_STATUS_BLOCK* ioStatusBlock)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        return Syscalls.NtCancelSynchronousIoFile(gate, new NtCancelSynchronousIoFileRequest(threadHandle, (ulong)ioRequestToCancel),
            new IoTarget(ioStatusBlock, null, 0));
    }
}
