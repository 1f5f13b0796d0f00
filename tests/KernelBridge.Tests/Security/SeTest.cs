using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Client.Native;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Tests.Security;

/// <summary>Helpers for the security descriptor tests: descriptors from SDDL, named objects with them, queries.</summary>
internal static unsafe class SeTest
{
    public const uint OwnerGroupDacl = (uint)(SecurityInformation.OWNER_SECURITY_INFORMATION | SecurityInformation.GROUP_SECURITY_INFORMATION
        | SecurityInformation.DACL_SECURITY_INFORMATION);
    public const uint Dacl = (uint)SecurityInformation.DACL_SECURITY_INFORMATION;

    /// <summary>This test process's user SID (S-1-22-1-uid).</summary>
    public static string MySid => Sid.ForUnixUser(Libc.EffectiveUserId()).ToString();

    public static string UniqueName(string prefix = "se") => $@"\BaseNamedObjects\{prefix}-{Guid.NewGuid():N}";

    public static byte[] Sd(string sddl) => Sddl.Parse(sddl).ToSelfRelative();

    public static NtStatus CreateEvent(string name, byte[]? descriptor, uint access, out nint handle)
    {
        nint created;
        var status = Ntdll.NtCreateEvent(&created, access, new ObjectAttributes(name, 0) { SecurityDescriptor = descriptor }, EventType.NotificationEvent, false);
        handle = created;
        return status;
    }

    public static NtStatus OpenEvent(string name, uint access, out nint handle)
    {
        nint opened;
        var status = Ntdll.NtOpenEvent(&opened, access, new ObjectAttributes(name, 0));
        handle = opened;
        return status;
    }

    public static NtStatus CreateDirectory(string name, byte[]? descriptor, out nint handle)
    {
        nint created;
        var status = Ntdll.NtCreateDirectoryObject(&created, AccessMask.DIRECTORY_ALL_ACCESS, new ObjectAttributes(name, 0) { SecurityDescriptor = descriptor });
        handle = created;
        return status;
    }

    /// <summary>NtQuerySecurityObject into a buffer of <paramref name="length"/> bytes.</summary>
    public static (NtStatus Status, uint Needed, byte[] Bytes) QueryRaw(nint handle, uint information, int length)
    {
        var buffer = new byte[Math.Max(length, 1)];
        uint needed = 0xDEADBEEF;
        NtStatus status;
        fixed (byte* pointer = buffer) status = Ntdll.NtQuerySecurityObject(handle, information, length == 0 ? null : pointer, (uint)length, &needed);
        return (status, needed, buffer[..length]);
    }

    /// <summary>The object's descriptor (asserting the query works).</summary>
    public static SecurityDescriptor Query(nint handle, uint information = OwnerGroupDacl)
    {
        var (status, _, bytes) = QueryRaw(handle, information, 4096);
        Assert.Equal(NtStatus.STATUS_SUCCESS, status);
        Assert.Equal(NtStatus.STATUS_SUCCESS, SecurityDescriptor.TryReadSelfRelative(bytes, out var descriptor));
        return descriptor!;
    }

    public static string QuerySddl(nint handle, uint information = OwnerGroupDacl) =>
        Sddl.ToSddl(Query(handle, information), (SecurityInformation)information);

    public static void Close(nint handle)
    {
        if (handle != 0) Ntdll.NtClose(handle);
    }
}
