using KernelBridge.Abi;
using KernelBridge.Abi.Security;

namespace KernelBridge.Client.Win32;

/// <summary>String SIDs and SDDL: ConvertStringSidToSid, ConvertSidToStringSid and the security-descriptor pair.</summary>
public static partial class Advapi32
{
    /// <summary>ConvertStringSidToSid: "S-1-5-18" or an SDDL alias ("SY"); ERROR_INVALID_SID otherwise.</summary>
    public static bool ConvertStringSidToSid(string? stringSid, out byte[]? sid)
    {
        sid = null;
        if (stringSid is null) return Fail(Win32Error.ERROR_INVALID_PARAMETER);
        if (!Sddl.TryParseSid(stringSid, out var parsed)) return Fail(Win32Error.ERROR_INVALID_SID);
        sid = parsed!.ToBytes();
        return true;
    }

    /// <summary>ConvertSidToStringSid: ERROR_INVALID_SID for bytes that are not a valid SID.</summary>
    public static bool ConvertSidToStringSid(ReadOnlySpan<byte> sid, out string? stringSid)
    {
        stringSid = null;
        if (!Sid.TryRead(sid, out var parsed, out _)) return Fail(Win32Error.ERROR_INVALID_SID);
        stringSid = parsed!.ToString();
        return true;
    }

    /// <summary>
    /// ConvertStringSecurityDescriptorToSecurityDescriptor: a self-relative descriptor. Errors as
    /// Windows': ERROR_UNKNOWN_REVISION, ERROR_INVALID_PARAMETER, ERROR_INVALID_ACL, ERROR_NONE_MAPPED, ERROR_INVALID_SID.
    /// </summary>
    public static bool ConvertStringSecurityDescriptorToSecurityDescriptor(string? stringSecurityDescriptor, uint stringSDRevision,
        out byte[]? securityDescriptor, out uint securityDescriptorSize)
    {
        securityDescriptor = null;
        securityDescriptorSize = 0;
        if (stringSecurityDescriptor is null) return Fail(Win32Error.ERROR_INVALID_PARAMETER);
        if (stringSDRevision != SDDL_REVISION_1) return Fail(Win32Error.ERROR_UNKNOWN_REVISION);
        var error = Sddl.TryParse(stringSecurityDescriptor, out var descriptor, out _);
        if (error != Win32Error.ERROR_SUCCESS) return Fail(error);
        securityDescriptor = descriptor!.ToSelfRelative();
        securityDescriptorSize = (uint)securityDescriptor.Length;
        return true;
    }

    /// <summary>ConvertSecurityDescriptorToStringSecurityDescriptor: <paramref name="stringLength"/> counts the terminating NUL, as Windows does.</summary>
    public static bool ConvertSecurityDescriptorToStringSecurityDescriptor(ReadOnlySpan<byte> securityDescriptor, uint requestedStringSDRevision,
        SecurityInformation securityInformation, out string? stringSecurityDescriptor, out uint stringLength)
    {
        stringSecurityDescriptor = null;
        stringLength = 0;
        if (requestedStringSDRevision != SDDL_REVISION_1) return Fail(Win32Error.ERROR_UNKNOWN_REVISION);
        var status = SecurityDescriptor.TryReadSelfRelative(securityDescriptor, out var descriptor);
        if (!status.IsSuccess) return Fail(status);
        stringSecurityDescriptor = Sddl.ToSddl(descriptor!, securityInformation);
        stringLength = (uint)stringSecurityDescriptor.Length + 1;
        return true;
    }
}
