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
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(gate, ioCompletionHandle, new NtCreateIoCompletionRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            numberOfConcurrentThreads, (uint)name.Length), name);
    }

    public static NtStatus NtOpenIoCompletion(nint* ioCompletionHandle, uint desiredAccess, ObjectAttributes objectAttributes)
    {
        var name = NameBytes(objectAttributes);
        return OpenOrCreate(null, ioCompletionHandle, new NtOpenIoCompletionRequest(objectAttributes.RootDirectory, desiredAccess, (uint)objectAttributes.Attributes,
            (uint)name.Length, 0), name);
    }

    /// <summary>NtSetIoCompletion: queues a packet {key, apcContext, status, information}.</summary>
    public static NtStatus NtSetIoCompletion(nint ioCompletionHandle, nint keyContext, nint apcContext, NtStatus ioStatus, nuint ioStatusInformation)
    {
        if (!TryCurrentGate(out var gate, out var status)) return status;
        return gate.Call<NtSetIoCompletionRequest, EmptyReply>(new NtSetIoCompletionRequest(ioCompletionHandle, (ulong)keyContext, (ulong)apcContext,
            ioStatus, 0, (long)ioStatusInformation), default, default, out _);
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
        using var answer = gate.CallWithData<NtRemoveIoCompletionRequest, RemoveIoCompletionReply>(new NtRemoveIoCompletionRequest(port, count,
            alertable ? 1u : 0, timeout is null ? 0u : 1, 0, timeout is null ? 0 : *timeout));
        var reply = answer.Reply;
        var packetBytes = (int)reply.Count * Marshal.SizeOf<CompletionPacket>();
        var packets = MemoryMarshal.Cast<byte, CompletionPacket>(answer.Data[..packetBytes]);
        for (var i = 0; i < packets.Length; i++)
        {
            information[i].KeyContext = (nint)packets[i].KeyContext;
            information[i].ApcContext = (nint)packets[i].ApcContext;
            information[i].IoStatusBlock.Information = (nuint)packets[i].Information;
            information[i].IoStatusBlock.Status = packets[i].Status;
        }
        if (removed is not null) *removed = (uint)packets.Length;
        RunApcs(MemoryMarshal.Cast<byte, ApcRecord>(answer.Data[packetBytes..])[..(int)reply.ApcCount]);
        return answer.Status;
    }

    /// <summary>NtQueryIoCompletion(IoCompletionBasicInformation): how many packets are queued.</summary>
    public static NtStatus NtQueryIoCompletion(nint ioCompletionHandle, out int depth)
    {
        depth = 0;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        status = gate.Call<NtQueryIoCompletionRequest, StateReply>(new NtQueryIoCompletionRequest(ioCompletionHandle), default, default, out var reply);
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
        return gate.Call<NtSetInformationFileRequest, IoTransferReply>(new NtSetInformationFileRequest(fileHandle, (ulong)ioStatusBlock,
            (uint)fileInformationClass, length), new ReadOnlySpan<byte>(fileInformation, (int)length), default, out _,
            new IoTarget(ioStatusBlock, null, 0));
    }

    /// <summary>NtCancelIoFile: this thread's I/O on the file; returns once it has completed.</summary>
    public static NtStatus NtCancelIoFile(nint fileHandle, IO_STATUS_BLOCK* ioStatusBlock)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        return gate.Call<NtCancelIoFileRequest, IoTransferReply>(new NtCancelIoFileRequest(fileHandle), default, default, out _,
            new IoTarget(ioStatusBlock, null, 0));
    }

    /// <summary>NtCancelIoFileEx: the process's I/O on the file issued with <paramref name="ioRequestToCancel"/> (or all); STATUS_NOT_FOUND if none.</summary>
    public static NtStatus NtCancelIoFileEx(nint fileHandle, IO_STATUS_BLOCK* ioRequestToCancel, IO_STATUS_BLOCK* ioStatusBlock) =>
        NtCancelIoFileEx(null, fileHandle, ioRequestToCancel, ioStatusBlock);

    internal static NtStatus NtCancelIoFileEx(GateClient? gate, nint fileHandle, IO_STATUS_BLOCK* ioRequestToCancel, IO_STATUS_BLOCK* ioStatusBlock)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        return gate.Call<NtCancelIoFileExRequest, IoTransferReply>(new NtCancelIoFileExRequest(fileHandle, (ulong)ioRequestToCancel), default, default,
            out _, new IoTarget(ioStatusBlock, null, 0));
    }

    /// <summary>NtCancelSynchronousIoFile: the synchronous I/O the thread is blocked in; STATUS_NOT_FOUND if none.</summary>
    public static NtStatus NtCancelSynchronousIoFile(nint threadHandle, IO_STATUS_BLOCK* ioRequestToCancel, IO_STATUS_BLOCK* ioStatusBlock)
    {
        if (ioStatusBlock is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryCurrentGate(out var gate, out var status)) return status;
        return gate.Call<NtCancelSynchronousIoFileRequest, IoTransferReply>(new NtCancelSynchronousIoFileRequest(threadHandle, (ulong)ioRequestToCancel),
            default, default, out _, new IoTarget(ioStatusBlock, null, 0));
    }
}
