using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Native;

/// <summary>Objects' security descriptors: NtQuerySecurityObject, NtSetSecurityObject, NtCreateDirectoryObject.</summary>
public static unsafe partial class Ntdll
{
    /// <summary>
    /// NtQuerySecurityObject: the parts <paramref name="securityInformation"/> names, self-relative, in
    /// <paramref name="securityDescriptor"/>; STATUS_BUFFER_TOO_SMALL with the length in <paramref name="lengthNeeded"/> if it does not fit.
    /// </summary>
    public static NtStatus NtQuerySecurityObject(nint handle, uint securityInformation, void* securityDescriptor, uint length, uint* lengthNeeded) =>
        NtQuerySecurityObject(null, handle, securityInformation, securityDescriptor, length, lengthNeeded);

    internal static NtStatus NtQuerySecurityObject(GateClient? gate, nint handle, uint securityInformation, void* securityDescriptor, uint length,
        uint* lengthNeeded)
    {
        if (!TryGate(ref gate, out var status)) return status;
        using var answer = Syscalls.NtQuerySecurityObject(gate, new NtQuerySecurityObjectRequest(handle, securityInformation, length));
        return CopySecurityAnswer(answer.Status, answer.Reply, answer.Data, securityDescriptor, length, lengthNeeded);
    }

    /// <summary>KernelBridge's NtQuerySecurityObject by name, without a handle (what `kbridge obj --sd` uses).</summary>
    public static NtStatus KbQuerySecurityObjectByName(string objectName, uint securityInformation, void* securityDescriptor, uint length, uint* lengthNeeded) =>
        KbQuerySecurityObjectByName(null, objectName, securityInformation, securityDescriptor, length, lengthNeeded);

    internal static NtStatus KbQuerySecurityObjectByName(GateClient? gate, string objectName, uint securityInformation, void* securityDescriptor,
        uint length, uint* lengthNeeded)
    {
        if (!TryGate(ref gate, out var status)) return status;
        using var answer = Syscalls.KbQuerySecurityObjectByName(gate, new KbQuerySecurityObjectByNameRequest(securityInformation, length, 0, 0),
            new(objectName));
        return CopySecurityAnswer(answer.Status, answer.Reply, answer.Data, securityDescriptor, length, lengthNeeded);
    }

    private static NtStatus CopySecurityAnswer(NtStatus status, in NtQuerySecurityObjectReply reply, ReadOnlySpan<byte> data, void* buffer, uint length,
        uint* lengthNeeded)
    {
        if (status.IsSuccess && buffer is not null)
            NtQuerySecurityObjectReply.ReadData(in reply, data).Descriptor.CopyTo(new Span<byte>(buffer, (int)length));
        if (lengthNeeded is not null && (status.IsSuccess || status == NtStatus.STATUS_BUFFER_TOO_SMALL)) *lengthNeeded = reply.LengthNeeded;
        return status;
    }

    /// <summary>NtSetSecurityObject: the parts <paramref name="securityInformation"/> names, from a self-relative descriptor.</summary>
    public static NtStatus NtSetSecurityObject(nint handle, uint securityInformation, ReadOnlySpan<byte> securityDescriptor) =>
        NtSetSecurityObject(null, handle, securityInformation, securityDescriptor);

    internal static NtStatus NtSetSecurityObject(GateClient? gate, nint handle, uint securityInformation, ReadOnlySpan<byte> securityDescriptor)
    {
        if (!TryGate(ref gate, out var status)) return status;
        return Syscalls.NtSetSecurityObject(gate, new NtSetSecurityObjectRequest(handle, securityInformation, 0, 0), new(securityDescriptor), out _);
    }

    /// <summary>NtCreateDirectoryObject; the directory's descriptor is <see cref="ObjectAttributes.SecurityDescriptor"/> or the defaults.</summary>
    public static NtStatus NtCreateDirectoryObject(nint* directoryHandle, uint desiredAccess, in ObjectAttributes objectAttributes) =>
        NtCreateDirectoryObject(null, directoryHandle, desiredAccess, objectAttributes);

    internal static NtStatus NtCreateDirectoryObject(GateClient? gate, nint* directoryHandle, uint desiredAccess, in ObjectAttributes objectAttributes)
    {
        if (!BeginOpen(ref gate, directoryHandle, out var status)) return status;
        status = Syscalls.NtCreateDirectoryObject(gate, new NtCreateDirectoryObjectRequest(objectAttributes.RootDirectory, desiredAccess,
            (uint)objectAttributes.Attributes, 0, 0, 0), new(NameOf(objectAttributes), objectAttributes.SecurityDescriptor), out var reply);
        return HandleOut(directoryHandle, status, reply);
    }
}
