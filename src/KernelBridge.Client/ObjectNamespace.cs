using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Client;

/// <summary>One entry of an object directory; LinkTarget is set for symbolic links.</summary>
public sealed record DirectoryEntry(string Name, string TypeName, string? LinkTarget);

/// <summary>Walks the object namespace with NtOpenDirectoryObject / NtQueryDirectoryObject.</summary>
public static unsafe class ObjectNamespace
{
    /// <summary>Every entry of a directory (\, \Device, \??...).</summary>
    public static IReadOnlyList<DirectoryEntry> List(string directory, GateClient? gate = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        gate ??= GateClient.Current;
        nint handle;
        var status = Ntdll.NtOpenDirectoryObject(gate, &handle, AccessMask.DIRECTORY_QUERY | AccessMask.DIRECTORY_TRAVERSE, new ObjectAttributes(directory));
        if (!status.IsSuccess && status != NtStatus.STATUS_PORT_CONNECTION_REFUSED) throw new NtStatusException(status, $"opening {directory}");
        if (!status.IsSuccess) throw new NtStatusException(status, $"opening {directory}", Ntdll.LastConnectionError ?? "");
        try
        {
            var entries = new List<DirectoryEntry>();
            var buffer = new byte[4096];
            uint context = 0;
            var restart = true;
            while (true)
            {
                uint returned;
                fixed (byte* pointer = buffer)
                {
                    status = Ntdll.NtQueryDirectoryObject(gate, handle, pointer, (uint)buffer.Length, false, restart, &context, &returned);
                    if (status == NtStatus.STATUS_NO_MORE_ENTRIES) break;
                    NtStatusException.ThrowIfError(status, $"listing {directory}");
                    for (var entry = pointer; ; entry += 32)
                    {
                        var name = Ntdll.ReadUnicodeString(entry);
                        var type = Ntdll.ReadUnicodeString(entry + 16);
                        if (name.Length == 0 && type.Length == 0) break;
                        var full = directory.TrimEnd('\\') + @"\" + name;
                        entries.Add(new DirectoryEntry(name, type, type == "SymbolicLink" ? TryReadLink(full, gate) : null));
                    }
                }
                restart = false;
                if (status != NtStatus.STATUS_MORE_ENTRIES) break;
                if (returned <= 32) buffer = new byte[buffer.Length * 2];
            }
            return entries;
        }
        finally
        {
            Ntdll.NtClose(gate, handle);
        }
    }

    /// <summary>A symbolic link's target, or null if it cannot be read.</summary>
    public static string? TryReadLink(string linkName, GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        nint handle;
        if (!Ntdll.NtOpenSymbolicLinkObject(gate, &handle, AccessMask.SYMBOLIC_LINK_QUERY, new ObjectAttributes(linkName)).IsSuccess) return null;
        try
        {
            var buffer = stackalloc char[1024];
            ushort length;
            uint returned;
            return Ntdll.NtQuerySymbolicLinkObject(gate, handle, buffer, 2048, &length, &returned).IsSuccess ? new string(buffer, 0, length / 2) : null;
        }
        finally
        {
            Ntdll.NtClose(gate, handle);
        }
    }

    /// <summary>NtQueryObject(ObjectNameInformation) as a string.</summary>
    public static string QueryName(nint handle, GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        var buffer = new byte[2048];
        fixed (byte* pointer = buffer)
        {
            uint returned;
            var status = Ntdll.NtQueryObject(gate, handle, ObjectInformationClass.ObjectNameInformation, pointer, (uint)buffer.Length, &returned);
            NtStatusException.ThrowIfFailed(status, "NtQueryObject(ObjectNameInformation)");
            return Ntdll.ReadUnicodeString(pointer);
        }
    }

    /// <summary>NtQueryObject(ObjectTypeInformation)'s type name.</summary>
    public static string QueryTypeName(nint handle, GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        var buffer = new byte[512];
        fixed (byte* pointer = buffer)
        {
            uint returned;
            var status = Ntdll.NtQueryObject(gate, handle, ObjectInformationClass.ObjectTypeInformation, pointer, (uint)buffer.Length, &returned);
            NtStatusException.ThrowIfFailed(status, "NtQueryObject(ObjectTypeInformation)");
            return Ntdll.ReadUnicodeString(pointer);
        }
    }

    internal static int Size<T>() where T : unmanaged => Marshal.SizeOf<T>();
}
