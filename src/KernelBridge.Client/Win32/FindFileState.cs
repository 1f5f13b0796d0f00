using System.Buffers.Binary;
using System.Collections.Concurrent;
using KernelBridge.Abi;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

/// <summary>
/// What a find handle stands for (kernelbase's FIND_FIRST_DEVICE_HANDLE... here, a directory handle
/// and the entries of its last NtQueryDirectoryFile, taken one at a time).
/// </summary>
internal sealed unsafe class FindFileState(nint directory)
{
    /// <summary>FILE_BOTH_DIR_INFORMATION's offsets (x64).</summary>
    private const int NameOffset = 94;

    private static readonly ConcurrentDictionary<nint, FindFileState> Handles = new();
    private static long s_lastHandle = 0x10000;

    private readonly byte[] _buffer = new byte[8192];
    private int _next = -1;

    public nint Directory { get; } = directory;

    public nint Register()
    {
        // Find handles are not kernel handles: they come from their own range, multiples of 4 like handles.
        var handle = (nint)Interlocked.Add(ref s_lastHandle, 4);
        Handles[handle] = this;
        return handle;
    }

    public static FindFileState? Lookup(nint handle) => Handles.TryGetValue(handle, out var state) ? state : null;

    public static FindFileState? Remove(nint handle) => Handles.TryRemove(handle, out var state) ? state : null;

    /// <summary>The next entry: from the buffer, else from a new query (the pattern is the first query's).</summary>
    public NtStatus Next(string? pattern, WIN32_FIND_DATA data)
    {
        if (_next < 0)
        {
            IO_STATUS_BLOCK iosb = default;
            NtStatus status;
            fixed (byte* buffer = _buffer)
                status = Ntdll.NtQueryDirectoryFile(Directory, 0, 0, 0, &iosb, buffer, (uint)_buffer.Length, FileInformationClass.FileBothDirectoryInformation,
                    false, pattern, false);
            // STATUS_NO_MORE_FILES is a warning, not an error: anything but success ends the walk.
            if (!status.IsSuccess) return status;
            _next = 0;
        }
        var entry = _buffer.AsSpan(_next);
        var nextOffset = BinaryPrimitives.ReadInt32LittleEndian(entry);
        data.CreationTime = BinaryPrimitives.ReadInt64LittleEndian(entry[8..]);
        data.LastAccessTime = BinaryPrimitives.ReadInt64LittleEndian(entry[16..]);
        data.LastWriteTime = BinaryPrimitives.ReadInt64LittleEndian(entry[24..]);
        var size = BinaryPrimitives.ReadInt64LittleEndian(entry[40..]);
        data.FileSizeHigh = (uint)(size >> 32);
        data.FileSizeLow = (uint)size;
        data.FileAttributes = BinaryPrimitives.ReadUInt32LittleEndian(entry[56..]);
        var nameLength = BinaryPrimitives.ReadInt32LittleEndian(entry[60..]);
        var shortLength = entry[68];
        data.AlternateFileName = new string(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(entry.Slice(70, shortLength)));
        data.FileName = new string(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, char>(entry.Slice(NameOffset, nameLength)));
        _next = nextOffset == 0 ? -1 : _next + nextOffset;
        return NtStatus.STATUS_SUCCESS;
    }
}
