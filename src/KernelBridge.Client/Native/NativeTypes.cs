using System.Runtime.InteropServices;
using KernelBridge.Abi;

namespace KernelBridge.Client.Native;

/// <summary>IO_STATUS_BLOCK, laid out as on x64 Windows (16 bytes).</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct IO_STATUS_BLOCK
{
    [FieldOffset(0)] public int Status;
    [FieldOffset(0)] public nint Pointer;
    [FieldOffset(8)] public nuint Information;

    public readonly NtStatus NtStatus => (NtStatus)Status;

    public override readonly string ToString() => $"{{{(NtStatus)Status}, {Information}}}";
}

/// <summary>
/// OBJECT_ATTRIBUTES in managed clothes: the root directory handle, the name and the OBJ_* flags
/// (Windows' structure holds a pointer to a UNICODE_STRING; here the string travels as it is).
/// </summary>
public readonly record struct ObjectAttributes(string? ObjectName, ObjectAttributeFlags Attributes = ObjectAttributeFlags.OBJ_CASE_INSENSITIVE, nint RootDirectory = 0)
{
    /// <summary>OBJECT_ATTRIBUTES.SecurityDescriptor: a self-relative descriptor for a new object (null: the defaults).</summary>
    public byte[]? SecurityDescriptor { get; init; }
}

/// <summary>Pseudo-handles every process has.</summary>
public static class PseudoHandles
{
    /// <summary>NtCurrentProcess() / GetCurrentProcess().</summary>
    public static readonly nint CurrentProcess = -1;

    /// <summary>NtCurrentThread() / GetCurrentThread().</summary>
    public static readonly nint CurrentThread = -2;
}

/// <summary>OVERLAPPED, laid out as on x64 Windows (32 bytes). Internal/InternalHigh are the IOSB.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct OVERLAPPED
{
    public nint Internal;
    public nint InternalHigh;
    public uint Offset;
    public uint OffsetHigh;
    public nint hEvent;
}
