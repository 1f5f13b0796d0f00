using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>The rights on a communication port (fltKernel.h).</summary>
public static class FilterPortAccess
{
    /// <summary>Connecting to the port (FilterConnectCommunicationPort).</summary>
    public const uint FLT_PORT_CONNECT = 0x0001;

    public const uint FLT_PORT_ALL_ACCESS = FLT_PORT_CONNECT | AccessMask.STANDARD_RIGHTS_ALL;
}

public static partial class Flt
{
    /// <summary>
    /// FltBuildDefaultSecurityDescriptor, as the SDDL <see cref="CreateCommunicationPort(DriverObject, out FltPort?, string, string?, object?, FltConnectNotify, FltDisconnectNotify, FltMessageNotify?, int)"/>
    /// takes: <paramref name="desiredAccess"/> for SYSTEM and Administrators, nobody else.
    /// </summary>
    public static string BuildDefaultSecurityDescriptor(uint desiredAccess) =>
        $"D:P(A;;0x{desiredAccess:x};;;SY)(A;;0x{desiredAccess:x};;;BA)";
}
