using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Win32;

public static unsafe partial class Kernel32
{
    private const int MaxPath = 260;
    // FILE_FS_VOLUME_INFORMATION: VolumeLabelLength at 12, VolumeLabel at 18; FILE_FS_ATTRIBUTE_INFORMATION: FileSystemNameLength at 8, FileSystemName at 12.
    private const int VolumeLabelLengthOffset = 12;
    private const int VolumeLabelOffset = 18;
    private const int FileSystemNameLengthOffset = 8;
    private const int FileSystemNameOffset = 12;

    /// <summary>
    /// GetVolumeInformationByHandleW as kernelbase does it (Wine's volume.c): FileFsVolumeInformation
    /// for the label and serial number, FileFsAttributeInformation for the component length, flags
    /// and file system name, each asked only when one of its outputs is wanted. Any status but
    /// NT_SUCCESS fails with its Win32 error; a name buffer too small for the name and its NUL
    /// fails with ERROR_BAD_LENGTH.
    /// </summary>
    public static bool GetVolumeInformationByHandleW(nint file, char* volumeName, uint volumeNameSize, uint* volumeSerialNumber,
        uint* maximumComponentLength, uint* fileSystemFlags, char* fileSystemName, uint fileSystemNameSize)
    {
        if (volumeName is not null || volumeSerialNumber is not null)
        {
            Span<byte> info = stackalloc byte[24 + MaxPath * 2];
            if (!QueryVolume(file, info, FsInformationClass.FileFsVolumeInformation, out var returned)) return false;
            if (volumeName is not null && !CopyName(info, VolumeLabelLengthOffset, VolumeLabelOffset, returned, volumeName, volumeNameSize)) return false;
            if (volumeSerialNumber is not null) *volumeSerialNumber = BinaryPrimitives.ReadUInt32LittleEndian(info[8..]);
        }
        if (maximumComponentLength is not null || fileSystemFlags is not null || fileSystemName is not null)
        {
            Span<byte> info = stackalloc byte[16 + MaxPath * 2];
            if (!QueryVolume(file, info, FsInformationClass.FileFsAttributeInformation, out var returned)) return false;
            if (fileSystemName is not null && !CopyName(info, FileSystemNameLengthOffset, FileSystemNameOffset, returned, fileSystemName, fileSystemNameSize)) return false;
            if (maximumComponentLength is not null) *maximumComponentLength = BinaryPrimitives.ReadUInt32LittleEndian(info[4..]);
            if (fileSystemFlags is not null) *fileSystemFlags = BinaryPrimitives.ReadUInt32LittleEndian(info);
        }
        return true;
    }

    private static bool QueryVolume(nint file, Span<byte> info, FsInformationClass informationClass, out int returned)
    {
        IO_STATUS_BLOCK iosb = default;
        NtStatus status;
        fixed (byte* pointer = info)
        {
            status = Ntdll.NtQueryVolumeInformationFile(file, &iosb, pointer, (uint)info.Length, informationClass);
        }
        returned = (int)Math.Clamp(iosb.Information, 0, (nuint)info.Length);
        return status.IsSuccess || Fail(status);
    }

    /// <summary>The name at <paramref name="offset"/> whose byte length is at <paramref name="lengthOffset"/>, NUL-terminated, if the caller's buffer holds both.</summary>
    private static bool CopyName(ReadOnlySpan<byte> info, int lengthOffset, int offset, int returned, char* destination, uint size)
    {
        var bytes = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(info[lengthOffset..]), (uint)Math.Max(returned - offset, 0)) & ~1;
        var name = MemoryMarshal.Cast<byte, char>(info.Slice(offset, bytes));
        if (size < name.Length + 1)
        {
            SetLastError(Win32Error.ERROR_BAD_LENGTH);
            return false;
        }
        name.CopyTo(new Span<char>(destination, name.Length));
        destination[name.Length] = '\0';
        return true;
    }
}
