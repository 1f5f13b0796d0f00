using System.Buffers.Binary;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using static KernelBridge.Tests.Io.IoHelpers;

namespace KernelBridge.Tests.Io;

/// <summary>
/// \\.\RamDisk on the conformance kernel, which boots it at its default size: calls at explicit
/// byte offsets through both faces, and the disk codes and layouts written out from winioctl.h /
/// ntdddisk.h (not taken from the code under test).
/// </summary>
internal static unsafe class RamDiskTest
{
    public const string Win32Name = @"\\.\RamDisk";
    public const long DiskSize = 64L << 20;
    public const int Sector = 512;

    public const uint IOCTL_DISK_GET_DRIVE_GEOMETRY = 0x00070000;
    public const uint IOCTL_DISK_GET_LENGTH_INFO = 0x0007405C;
    /// <summary>IOCTL_DISK_GET_DRIVE_GEOMETRY_EX: a disk code the RAM disk does not answer.</summary>
    public const uint IOCTL_DISK_GET_DRIVE_GEOMETRY_EX = 0x000700A0;
    public const int SizeOfDiskGeometry = 24;
    public const int SizeOfGetLengthInformation = 8;
    public const uint FixedMedia = 12;
    public const uint FILE_DEVICE_DISK = 7;
    public const uint FileFsDeviceInformation = 4;
    public const uint FilePositionInformation = 14;

    /// <summary>Each test writes and reads its own sectors, so the order the tests run in does not matter.</summary>
    private static long s_nextRegion;

    /// <summary>A fresh 64 KiB region between 1 MiB and 32 MiB.</summary>
    public static long NewRegion() => (1L << 20) + (Interlocked.Increment(ref s_nextRegion) % 496) * (64L << 10);

    public static OwnedHandle Open(uint access = Infrastructure.KbTest.ReadWrite, uint flags = 0)
    {
        var handle = Kernel32.CreateFile(Win32Name, access, 3, 0, CreationDisposition.OPEN_EXISTING, flags, 0);
        Assert.True(handle != Kernel32.INVALID_HANDLE_VALUE, $"CreateFile({Win32Name}) failed with {Kernel32.GetLastError()}");
        return new OwnedHandle(handle);
    }

    /// <summary>Bytes that say where they came from: <paramref name="seed"/> and the position in the run.</summary>
    public static byte[] Pattern(int length, byte seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++) bytes[i] = (byte)(seed + i * 7 + i / 251);
        return bytes;
    }

    /// <summary>ReadFile with an OVERLAPPED carrying the offset (a synchronous handle still waits); last error and count pre-set to sentinels.</summary>
    public static bool ReadAt(nint handle, long offset, byte[] buffer, int length, out uint read)
    {
        var overlapped = At(offset);
        Kernel32.SetLastError(SentinelLastError);
        uint count = SentinelBytes;
        fixed (byte* pointer = buffer)
        {
            var ok = Kernel32.ReadFile(handle, pointer, (uint)length, &count, &overlapped);
            read = count;
            return ok;
        }
    }

    public static bool WriteAt(nint handle, long offset, byte[] data, out uint written) => WriteAt(handle, offset, data, data.Length, out written);

    public static bool WriteAt(nint handle, long offset, byte[] data, int length, out uint written)
    {
        var overlapped = At(offset);
        Kernel32.SetLastError(SentinelLastError);
        uint count = SentinelBytes;
        fixed (byte* pointer = data)
        {
            var ok = Kernel32.WriteFile(handle, pointer, (uint)length, &count, &overlapped);
            written = count;
            return ok;
        }
    }

    /// <summary>NtReadFile at <paramref name="offset"/>; returns the status.</summary>
    public static uint NtReadAt(nint handle, long offset, byte[] buffer, int length, ref IO_STATUS_BLOCK iosb)
    {
        fixed (byte* pointer = buffer)
        fixed (IO_STATUS_BLOCK* iosbPointer = &iosb)
        {
            return ReturnValue(Ntdll.NtReadFile(handle, 0, 0, 0, iosbPointer, pointer, (uint)length, &offset, null));
        }
    }

    public static uint NtWriteAt(nint handle, long offset, byte[] data, int length, ref IO_STATUS_BLOCK iosb)
    {
        fixed (byte* pointer = data)
        fixed (IO_STATUS_BLOCK* iosbPointer = &iosb)
        {
            return ReturnValue(Ntdll.NtWriteFile(handle, 0, 0, 0, iosbPointer, pointer, (uint)length, &offset, null));
        }
    }

    /// <summary>The sectors at <paramref name="offset"/> as they are now (asserts the read works).</summary>
    public static byte[] Contents(nint handle, long offset, int length)
    {
        var buffer = new byte[length];
        Assert.True(ReadAt(handle, offset, buffer, length, out var read), $"reading {length} bytes at {offset} failed with {Kernel32.GetLastError()}");
        Assert.Equal((uint)length, read);
        return buffer;
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> (asserts the write works).</summary>
    public static void Fill(nint handle, long offset, byte[] data)
    {
        Assert.True(WriteAt(handle, offset, data, out var written), $"writing {data.Length} bytes at {offset} failed with {Kernel32.GetLastError()}");
        Assert.Equal((uint)data.Length, written);
    }

    /// <summary>The synchronous file's position (FilePositionInformation, answered by the I/O manager).</summary>
    public static long Position(nint handle)
    {
        var buffer = new byte[8];
        var iosb = SentinelIosb();
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(NtQueryFile(handle, buffer, 8, FilePositionInformation, ref iosb)));
        return BinaryPrimitives.ReadInt64LittleEndian(buffer);
    }

    public static void SetPosition(nint handle, long position)
    {
        var iosb = SentinelIosb();
        NtStatus status;
        Span<byte> information = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(information, position);
        fixed (byte* pointer = information)
            status = Ntdll.NtSetInformationFile(handle, &iosb, pointer, 8, (FileInformationClass)FilePositionInformation);
        Assert.Equal(Hex(Win.STATUS_SUCCESS), Hex(status.Code));
    }

    private static OVERLAPPED At(long offset) => new() { Offset = (uint)offset, OffsetHigh = (uint)(offset >> 32) };
}
