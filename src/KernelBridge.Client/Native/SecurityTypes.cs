using System.Runtime.InteropServices;

namespace KernelBridge.Client.Native;

/// <summary>LUID: a locally unique identifier (privileges are LUIDs with HighPart 0).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LUID
{
    public uint LowPart;
    public int HighPart;
}

/// <summary>LUID_AND_ATTRIBUTES: 12 bytes, 4-aligned, as in TOKEN_PRIVILEGES.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public struct LUID_AND_ATTRIBUTES
{
    public LUID Luid;
    public uint Attributes;
}

/// <summary>TOKEN_PRIVILEGES with room for one entry (ANYSIZE_ARRAY); larger ones are 4 + 12 * count bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public struct TOKEN_PRIVILEGES
{
    public uint PrivilegeCount;
    public LUID_AND_ATTRIBUTES Privileges;
}

/// <summary>SID_AND_ATTRIBUTES on x64: a PSID and the attributes (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SID_AND_ATTRIBUTES
{
    public nint Sid;
    public uint Attributes;
}
