using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Native;

public static unsafe partial class Ntdll
{
    public static NtStatus NtClose(nint handle) => NtClose(null, handle);

    internal static NtStatus NtClose(GateClient? gate, nint handle)
    {
        if (!TryGate(ref gate, out var status)) return status;
        status = Syscalls.NtClose(gate, new NtCloseRequest(handle), out _);
        if (status.IsSuccess) gate.Handles.Forget(handle);
        return status;
    }

    /// <summary>NtDuplicateObject. TargetHandle is written on success (and zeroed on failure, as Windows does).</summary>
    public static NtStatus NtDuplicateObject(nint sourceProcessHandle, nint sourceHandle, nint targetProcessHandle,
        nint* targetHandle, uint desiredAccess, uint handleAttributes, DuplicateOptions options) =>
        NtDuplicateObject(null, sourceProcessHandle, sourceHandle, targetProcessHandle, targetHandle, desiredAccess, handleAttributes, options);

    internal static NtStatus NtDuplicateObject(GateClient? gate, nint sourceProcessHandle, nint sourceHandle, nint targetProcessHandle,
        nint* targetHandle, uint desiredAccess, uint handleAttributes, DuplicateOptions options)
    {
        if (!TryGate(ref gate, out var status)) return status;
        status = Syscalls.NtDuplicateObject(gate,
            new NtDuplicateObjectRequest(sourceProcessHandle, sourceHandle, targetProcessHandle, desiredAccess, handleAttributes, (uint)options, 0), out var reply);
        if (targetHandle is not null) *targetHandle = (nint)reply.TargetHandle;
        if (status.IsSuccess) gate.Handles.Copy(sourceHandle, (nint)reply.TargetHandle);
        if ((options & DuplicateOptions.DUPLICATE_CLOSE_SOURCE) != 0) gate.Handles.Forget(sourceHandle);
        return status;
    }

    /// <summary>NtQueryObject: the answer is laid out for <paramref name="buffer"/>'s address, as on Windows.</summary>
    public static NtStatus NtQueryObject(nint handle, ObjectInformationClass informationClass, void* buffer, uint length, uint* returnLength) =>
        NtQueryObject(null, handle, informationClass, buffer, length, returnLength);

    internal static NtStatus NtQueryObject(GateClient? gate, nint handle, ObjectInformationClass informationClass, void* buffer, uint length,
        uint* returnLength)
    {
        if (!TryGate(ref gate, out var status)) return status;
        using var answer = Syscalls.NtQueryObject(gate, new NtQueryObjectRequest(handle, (ulong)buffer, (uint)informationClass, length));
        var reply = answer.Reply;
        status = answer.Status;
        var information = NtQueryObjectReply.ReadData(in reply, answer.Data).Information;
        if (buffer is not null) information[..Math.Min(information.Length, (int)length)].CopyTo(new Span<byte>(buffer, (int)length));
        if (returnLength is not null && (status.IsSuccess || status.IsWarning || status == NtStatus.STATUS_INFO_LENGTH_MISMATCH))
            *returnLength = reply.ReturnLength;
        return status;
    }

    /// <summary>NtQueryDirectoryObject: OBJECT_DIRECTORY_INFORMATION entries, a zero entry, then the strings.</summary>
    public static NtStatus NtQueryDirectoryObject(nint directoryHandle, void* buffer, uint length, bool returnSingleEntry,
        bool restartScan, uint* context, uint* returnLength) =>
        NtQueryDirectoryObject(null, directoryHandle, buffer, length, returnSingleEntry, restartScan, context, returnLength);

    internal static NtStatus NtQueryDirectoryObject(GateClient? gate, nint directoryHandle, void* buffer, uint length, bool returnSingleEntry,
        bool restartScan, uint* context, uint* returnLength)
    {
        if (context is null) return NtStatus.STATUS_ACCESS_VIOLATION;
        if (!TryGate(ref gate, out var status)) return status;
        using var answer = Syscalls.NtQueryDirectoryObject(gate,
            new NtQueryDirectoryObjectRequest(directoryHandle, (ulong)buffer, length, returnSingleEntry ? 1u : 0, restartScan ? 1u : 0, *context));
        var reply = answer.Reply;
        status = answer.Status;
        var information = NtQueryDirectoryObjectReply.ReadData(in reply, answer.Data).Information;
        if (buffer is not null) information[..Math.Min(information.Length, (int)length)].CopyTo(new Span<byte>(buffer, (int)length));
        if (status != NtStatus.STATUS_INVALID_HANDLE && status != NtStatus.STATUS_OBJECT_TYPE_MISMATCH && status != NtStatus.STATUS_ACCESS_DENIED)
        {
            *context = reply.Context;
            if (returnLength is not null) *returnLength = reply.ReturnLength;
        }
        return status;
    }

    public static NtStatus NtOpenDirectoryObject(nint* directoryHandle, uint desiredAccess, in ObjectAttributes objectAttributes) =>
        NtOpenDirectoryObject(null, directoryHandle, desiredAccess, objectAttributes);

    internal static NtStatus NtOpenDirectoryObject(GateClient? gate, nint* directoryHandle, uint desiredAccess, in ObjectAttributes objectAttributes)
    {
        if (!BeginOpen(ref gate, directoryHandle, out var status)) return status;
        status = Syscalls.NtOpenDirectoryObject(gate, new NtOpenDirectoryObjectRequest(objectAttributes.RootDirectory, desiredAccess,
            (uint)objectAttributes.Attributes, 0, 0), new(NameOf(objectAttributes)), out var reply);
        return HandleOut(directoryHandle, status, reply);
    }

    public static NtStatus NtOpenSymbolicLinkObject(nint* linkHandle, uint desiredAccess, in ObjectAttributes objectAttributes) =>
        NtOpenSymbolicLinkObject(null, linkHandle, desiredAccess, objectAttributes);

    internal static NtStatus NtOpenSymbolicLinkObject(GateClient? gate, nint* linkHandle, uint desiredAccess, in ObjectAttributes objectAttributes)
    {
        if (!BeginOpen(ref gate, linkHandle, out var status)) return status;
        status = Syscalls.NtOpenSymbolicLinkObject(gate, new NtOpenSymbolicLinkObjectRequest(objectAttributes.RootDirectory, desiredAccess,
            (uint)objectAttributes.Attributes, 0, 0), new(NameOf(objectAttributes)), out var reply);
        return HandleOut(linkHandle, status, reply);
    }

    /// <summary>NtQuerySymbolicLinkObject into a caller buffer of <paramref name="maximumLength"/> bytes; the target is NUL-terminated if it fits.</summary>
    public static NtStatus NtQuerySymbolicLinkObject(nint linkHandle, char* target, ushort maximumLength, ushort* length, uint* returnedLength) =>
        NtQuerySymbolicLinkObject(null, linkHandle, target, maximumLength, length, returnedLength);

    internal static NtStatus NtQuerySymbolicLinkObject(GateClient? gate, nint linkHandle, char* target, ushort maximumLength, ushort* length,
        uint* returnedLength)
    {
        if (!TryGate(ref gate, out var status)) return status;
        using var answer = Syscalls.NtQuerySymbolicLinkObject(gate, new NtQuerySymbolicLinkObjectRequest(linkHandle, maximumLength, 0));
        var reply = answer.Reply;
        status = answer.Status;
        if (status.IsSuccess)
        {
            NtQuerySymbolicLinkObjectReply.ReadData(in reply, answer.Data).Target.CopyTo(new Span<char>(target, maximumLength / 2));
            if (reply.TargetBytes + 2 <= maximumLength) target[reply.TargetBytes / 2] = '\0';
            if (length is not null) *length = (ushort)reply.TargetBytes;
        }
        if (returnedLength is not null && (status.IsSuccess || status == NtStatus.STATUS_BUFFER_TOO_SMALL)) *returnedLength = reply.ReturnedLength;
        return status;
    }

    /// <summary>Reads a UNICODE_STRING (x64 layout) that points into memory this process owns.</summary>
    public static string ReadUnicodeString(void* unicodeString)
    {
        var length = *(ushort*)unicodeString;
        var buffer = *(char**)((byte*)unicodeString + 8);
        return buffer is null ? "" : new string(buffer, 0, length / 2);
    }

    internal static string Utf8Message(ReadOnlySpan<byte> data) => data.IsEmpty ? "" : Encoding.UTF8.GetString(data);
}
