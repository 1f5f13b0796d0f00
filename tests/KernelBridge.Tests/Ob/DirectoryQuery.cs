using KernelBridge.Abi;
using KernelBridge.Client.Native;

namespace KernelBridge.Tests.Ob;

/// <summary>One OBJECT_DIRECTORY_INFORMATION entry as read from the caller's buffer.</summary>
internal readonly record struct DirectoryEntryView(UnicodeString Name, UnicodeString Type)
{
    public (string, string) Pair => (Name.Value, Type.Value);

    /// <summary>Bytes the entry's strings take in the pool: both NUL-terminated.</summary>
    public int StringBytes => Name.Length + 2 + Type.Length + 2;
}

/// <summary>The outcome of one NtQueryDirectoryObject call into native memory.</summary>
internal sealed record DirectoryQuery(NtStatus Status, uint Context, uint ReturnLength, byte[] Buffer, nint Address)
{
    /// <summary>The entries up to the all-zero terminator (or the end of the buffer).</summary>
    public List<DirectoryEntryView> Entries()
    {
        var entries = new List<DirectoryEntryView>();
        for (var at = 0; at + ObTest.DirectoryEntrySize <= Buffer.Length; at += ObTest.DirectoryEntrySize)
        {
            if (IsZeroEntry(at)) break;
            entries.Add(new DirectoryEntryView(UnicodeString.Read(Buffer, Address, at), UnicodeString.Read(Buffer, Address, at + 16)));
        }
        return entries;
    }

    public bool IsZeroEntry(int at) => Buffer.AsSpan(at, ObTest.DirectoryEntrySize).IndexOfAnyExcept((byte)0) < 0;

    /// <summary>NtQueryDirectoryObject with a buffer of <paramref name="length"/> bytes (0xCC-filled) and a starting context.</summary>
    public static unsafe DirectoryQuery Run(nint directory, int length, bool returnSingleEntry, bool restartScan, uint context)
    {
        using var buffer = new NativeBuffer(Math.Max(length, 1));
        uint returned = 0xDEADBEEF;
        var status = Ntdll.NtQueryDirectoryObject(directory, buffer.Pointer, (uint)length, returnSingleEntry, restartScan, &context, &returned);
        return new DirectoryQuery(status, context, returned, buffer.Span[..length].ToArray(), (nint)buffer.Pointer);
    }

    /// <summary>Every (name, type) of a directory, read in one big call from the start.</summary>
    public static List<(string Name, string Type)> All(nint directory)
    {
        var query = Run(directory, 256 * 1024, returnSingleEntry: false, restartScan: true, context: 0);
        if (query.Status != NtStatus.STATUS_SUCCESS) throw new InvalidOperationException($"listing gave {query.Status}");
        return [.. query.Entries().Select(e => e.Pair)];
    }
}
