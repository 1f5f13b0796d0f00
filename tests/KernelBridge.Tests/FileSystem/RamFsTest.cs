using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Io;

namespace KernelBridge.Tests.FileSystem;

/// <summary>
/// \Device\RamFs on the conformance kernel: each test works in a directory of its own, and the
/// codes it expects are written out here from ntstatus.h / winerror.h / winnt.h, not taken from
/// the code under test.
/// </summary>
internal static unsafe class RamFsTest
{
    public const string NtRoot = @"\??\RamFs";
    public const string Win32Root = @"\\.\RamFs";

    public const uint STATUS_SUCCESS = 0;
    public const uint STATUS_BUFFER_OVERFLOW = 0x80000005;
    public const uint STATUS_NO_MORE_FILES = 0x80000006;
    public const uint STATUS_INVALID_INFO_CLASS = 0xC0000003;
    public const uint STATUS_INFO_LENGTH_MISMATCH = 0xC0000004;
    public const uint STATUS_INVALID_PARAMETER = 0xC000000D;
    public const uint STATUS_NO_SUCH_FILE = 0xC000000F;
    public const uint STATUS_INVALID_DEVICE_REQUEST = 0xC0000010;
    public const uint STATUS_END_OF_FILE = 0xC0000011;
    public const uint STATUS_ACCESS_DENIED = 0xC0000022;
    public const uint STATUS_OBJECT_NAME_INVALID = 0xC0000033;
    public const uint STATUS_OBJECT_NAME_NOT_FOUND = 0xC0000034;
    public const uint STATUS_OBJECT_NAME_COLLISION = 0xC0000035;
    public const uint STATUS_OBJECT_PATH_NOT_FOUND = 0xC000003A;
    public const uint STATUS_SHARING_VIOLATION = 0xC0000043;
    public const uint STATUS_DELETE_PENDING = 0xC0000056;
    public const uint STATUS_DISK_FULL = 0xC000007F;
    public const uint STATUS_FILE_IS_A_DIRECTORY = 0xC00000BA;
    public const uint STATUS_DIRECTORY_NOT_EMPTY = 0xC0000101;
    public const uint STATUS_NOT_A_DIRECTORY = 0xC0000103;
    public const uint STATUS_CANNOT_DELETE = 0xC0000121;

    public const uint ERROR_SUCCESS = 0;
    public const uint ERROR_FILE_NOT_FOUND = 2;
    public const uint ERROR_PATH_NOT_FOUND = 3;
    public const uint ERROR_ACCESS_DENIED = 5;
    public const uint ERROR_NO_MORE_FILES = 18;
    public const uint ERROR_SHARING_VIOLATION = 32;
    public const uint ERROR_FILE_EXISTS = 80;
    public const uint ERROR_INVALID_NAME = 123;
    public const uint ERROR_DIR_NOT_EMPTY = 145;
    public const uint ERROR_ALREADY_EXISTS = 183;
    public const uint ERROR_DISK_FULL = 112;

    public const uint FILE_READ_DATA = 0x0001;
    public const uint FILE_LIST_DIRECTORY = 0x0001;
    public const uint FILE_WRITE_DATA = 0x0002;
    public const uint FILE_APPEND_DATA = 0x0004;
    public const uint FILE_READ_ATTRIBUTES = 0x0080;
    public const uint FILE_WRITE_ATTRIBUTES = 0x0100;
    public const uint DELETE = 0x00010000;
    public const uint SYNCHRONIZE = 0x00100000;
    public const uint GENERIC_READ = 0x80000000;
    public const uint GENERIC_WRITE = 0x40000000;
    public const uint ReadWrite = GENERIC_READ | GENERIC_WRITE;

    public const uint FILE_SHARE_READ = 1;
    public const uint FILE_SHARE_WRITE = 2;
    public const uint FILE_SHARE_DELETE = 4;
    public const uint ShareAll = 7;

    // Creation dispositions (NtCreateFile) and the IOSB Information of a create.
    public const uint FILE_SUPERSEDE = 0, FILE_OPEN = 1, FILE_CREATE = 2, FILE_OPEN_IF = 3, FILE_OVERWRITE = 4, FILE_OVERWRITE_IF = 5;
    public const ulong FILE_SUPERSEDED = 0, FILE_OPENED = 1, FILE_CREATED = 2, FILE_OVERWRITTEN = 3;

    public const uint FILE_DIRECTORY_FILE = 0x01;
    public const uint FILE_SYNCHRONOUS_IO_NONALERT = 0x20;
    public const uint FILE_NON_DIRECTORY_FILE = 0x40;
    public const uint FILE_DELETE_ON_CLOSE = 0x1000;

    public const uint FILE_ATTRIBUTE_DIRECTORY = 0x10;
    public const uint FILE_ATTRIBUTE_ARCHIVE = 0x20;
    public const uint FILE_FLAG_OVERLAPPED = 0x40000000;
    public const uint FILE_FLAG_BACKUP_SEMANTICS = 0x02000000;
    public const uint FILE_FLAG_DELETE_ON_CLOSE = 0x04000000;

    // FILE_INFORMATION_CLASS values.
    public const uint FileDirectoryInformation = 1, FileFullDirectoryInformation = 2, FileBothDirectoryInformation = 3, FileBasicInformation = 4,
        FileStandardInformation = 5, FileInternalInformation = 6, FileNameInformation = 9, FileNamesInformation = 12, FileDispositionInformation = 13,
        FilePositionInformation = 14, FileEndOfFileInformation = 20, FileDispositionInformationEx = 64;

    /// <summary>A fresh directory under the root for one test, as an NT path (\??\RamFs\xxxx); it is left behind (the kernel is the test run's).</summary>
    public static string NewDirectory()
    {
        var path = NtRoot + @"\" + Guid.NewGuid().ToString("N")[..12];
        var status = Create(path, FILE_LIST_DIRECTORY | SYNCHRONIZE, ShareAll, FILE_CREATE, FILE_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT, out var handle, out _);
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(status));
        Kernel32.CloseHandle(handle);
        return path;
    }

    /// <summary>The Win32 name (\\.\RamFs\...) of an NT path under \??\RamFs.</summary>
    public static string Win32(string ntPath) => Win32Root + ntPath[NtRoot.Length..];

    /// <summary>NtCreateFile with exactly these arguments; the status as a number, the handle (0 on failure) and the IOSB's Information.</summary>
    public static uint Create(string ntPath, uint access, uint share, uint disposition, uint options, out nint handle, out ulong information,
        uint attributes = 0)
    {
        nint h = 0;
        var iosb = IoHelpers.SentinelIosb();
        var status = Ntdll.NtCreateFile(&h, access, new ObjectAttributes(ntPath), &iosb, attributes, (ShareAccess)share, (CreateDisposition)disposition,
            (CreateOptions)options);
        handle = status.IsSuccess ? h : 0;
        information = iosb.Information;
        return status.Code;
    }

    /// <summary>A file opened (or created) for synchronous read and write, sharing everything.</summary>
    public static OwnedHandle OpenFile(string ntPath, uint disposition = FILE_OPEN_IF, uint access = ReadWrite | SYNCHRONIZE, uint share = ShareAll,
        uint options = FILE_SYNCHRONOUS_IO_NONALERT | FILE_NON_DIRECTORY_FILE)
    {
        var status = Create(ntPath, access, share, disposition, options, out var handle, out _);
        Assert.True(status == STATUS_SUCCESS, $"NtCreateFile({ntPath}) failed with 0x{status:X8}");
        return new OwnedHandle(handle);
    }

    public static string Hex(uint value) => $"0x{value:X8}";

    public static string Hex(NtStatus status) => Hex(status.Code);

    /// <summary>Bytes that say where they came from.</summary>
    public static byte[] Pattern(int length, byte seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++) bytes[i] = (byte)(seed + i * 7 + i / 251);
        return bytes;
    }

    /// <summary>NtWriteFile at <paramref name="offset"/> (null: the file's position); the status and the IOSB's Information.</summary>
    public static uint WriteAt(nint handle, long? offset, byte[] data, out ulong information)
    {
        var iosb = IoHelpers.SentinelIosb();
        var at = offset ?? 0;
        NtStatus status;
        fixed (byte* pointer = data)
            status = Ntdll.NtWriteFile(handle, 0, 0, 0, &iosb, data.Length == 0 ? null : pointer, (uint)data.Length, offset is null ? null : &at, null);
        information = iosb.Information;
        return status.Code;
    }

    /// <summary>NtReadFile of <paramref name="length"/> bytes at <paramref name="offset"/> (null: the file's position); what came back.</summary>
    public static uint ReadAt(nint handle, long? offset, int length, out byte[] data)
    {
        var iosb = IoHelpers.SentinelIosb();
        var at = offset ?? 0;
        var buffer = new byte[Math.Max(length, 1)];
        NtStatus status;
        fixed (byte* pointer = buffer)
            status = Ntdll.NtReadFile(handle, 0, 0, 0, &iosb, pointer, (uint)length, offset is null ? null : &at, null);
        data = status.IsError ? [] : buffer[..(int)iosb.Information];
        return status.Code;
    }

    /// <summary>NtQueryInformationFile into a buffer of <paramref name="length"/> bytes.</summary>
    public static uint Query(nint handle, uint informationClass, int length, out byte[] answer, out ulong information)
    {
        var buffer = new byte[length];
        var iosb = IoHelpers.SentinelIosb();
        NtStatus status;
        fixed (byte* pointer = buffer)
            status = Ntdll.NtQueryInformationFile(handle, &iosb, pointer, (uint)length, (FileInformationClass)informationClass);
        answer = buffer;
        information = iosb.Information;
        return status.Code;
    }

    /// <summary>FILE_STANDARD_INFORMATION's EndOfFile.</summary>
    public static long EndOfFile(nint handle)
    {
        Assert.Equal(Hex(STATUS_SUCCESS), Hex(Query(handle, FileStandardInformation, 24, out var answer, out _)));
        return BitConverter.ToInt64(answer, 8);
    }

    /// <summary>Whether an open of the path with FILE_OPEN finds it.</summary>
    public static uint Probe(string ntPath)
    {
        var status = Create(ntPath, FILE_READ_ATTRIBUTES | SYNCHRONIZE, ShareAll, FILE_OPEN, FILE_SYNCHRONOUS_IO_NONALERT, out var handle, out _);
        if (handle != 0) Kernel32.CloseHandle(handle);
        return status;
    }
}
