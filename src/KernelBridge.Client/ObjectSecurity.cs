using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Client;

/// <summary>Objects' security descriptors in the idiomatic layer: read by name or handle, written by handle, as SDDL or descriptors.</summary>
public static unsafe class ObjectSecurity
{
    private const uint OwnerGroupDacl = (uint)(SecurityInformation.OWNER_SECURITY_INFORMATION | SecurityInformation.GROUP_SECURITY_INFORMATION
        | SecurityInformation.DACL_SECURITY_INFORMATION);

    /// <summary>The owner, group and DACL of the object a name leads to (a link itself, not its target); throws <see cref="NtStatusException"/>.</summary>
    public static SecurityDescriptor OfName(string objectName, GateClient? gate = null)
    {
        ArgumentNullException.ThrowIfNull(objectName);
        gate ??= GateClient.Current;
        return Query((buffer, length, needed) => Ntdll.KbQuerySecurityObjectByName(gate, objectName, OwnerGroupDacl, buffer, length, needed), objectName);
    }

    /// <summary>The owner, group and DACL of the object behind <paramref name="handle"/> (the handle needs READ_CONTROL).</summary>
    public static SecurityDescriptor OfHandle(nint handle, GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        return Query((buffer, length, needed) => Ntdll.NtQuerySecurityObject(gate, handle, OwnerGroupDacl, buffer, length, needed), $"handle {handle}");
    }

    /// <summary>The object's owner, group and DACL as SDDL, or null with the reason when it cannot be read.</summary>
    public static string? TrySddlOfName(string objectName, out NtStatus status, GateClient? gate = null)
    {
        try
        {
            status = NtStatus.STATUS_SUCCESS;
            return Sddl.ToSddl(OfName(objectName, gate), (SecurityInformation)OwnerGroupDacl);
        }
        catch (NtStatusException e)
        {
            status = e.Status;
            return null;
        }
    }

    private delegate NtStatus QueryCall(void* buffer, uint length, uint* needed);

    private static SecurityDescriptor Query(QueryCall call, string what)
    {
        uint needed = 0;
        var status = call(null, 0, &needed);
        if (status == NtStatus.STATUS_BUFFER_TOO_SMALL)
        {
            var buffer = new byte[needed];
            fixed (byte* pointer = buffer) status = call(pointer, needed, &needed);
            NtStatusException.ThrowIfError(status, $"reading the security descriptor of {what}");
            NtStatusException.ThrowIfError(SecurityDescriptor.TryReadSelfRelative(buffer, out var descriptor), $"reading the security descriptor of {what}");
            return descriptor!;
        }
        NtStatusException.ThrowIfError(status, $"reading the security descriptor of {what}");
        throw new NtStatusException(NtStatus.STATUS_INVALID_SECURITY_DESCR, $"reading the security descriptor of {what}");
    }
}
