using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Io;

/// <summary>
/// Windows' values, written out here (not taken from the code under test) so the expectations
/// come from Windows: ntstatus.h / winerror.h and RtlNtStatusToDosError as asserted by Wine's
/// conformance tests (dlls/ntdll/tests/error.c), see /tmp/research/issue2-facts.md section 1.
/// </summary>
internal static class Win
{
    public const uint STATUS_SUCCESS = 0x00000000;
    public const uint STATUS_TIMEOUT = 0x00000102;
    public const uint STATUS_PENDING = 0x00000103;
    public const uint STATUS_OBJECT_NAME_EXISTS = 0x40000000;
    public const uint STATUS_BUFFER_OVERFLOW = 0x80000005;
    public const uint STATUS_DEVICE_BUSY = 0x80000011;
    /// <summary>A warning after which IopCompleteRequest copies nothing back, although the IOSB is written.</summary>
    public const uint STATUS_VERIFY_REQUIRED = 0x80000016;
    public const uint STATUS_UNSUCCESSFUL = 0xC0000001;
    public const uint STATUS_NOT_IMPLEMENTED = 0xC0000002;
    public const uint STATUS_INVALID_INFO_CLASS = 0xC0000003;
    public const uint STATUS_INFO_LENGTH_MISMATCH = 0xC0000004;
    public const uint STATUS_ACCESS_VIOLATION = 0xC0000005;
    public const uint STATUS_INVALID_HANDLE = 0xC0000008;
    public const uint STATUS_INVALID_PARAMETER = 0xC000000D;
    public const uint STATUS_INVALID_DEVICE_REQUEST = 0xC0000010;
    public const uint STATUS_END_OF_FILE = 0xC0000011;
    public const uint STATUS_ACCESS_DENIED = 0xC0000022;
    public const uint STATUS_BUFFER_TOO_SMALL = 0xC0000023;
    public const uint STATUS_OBJECT_TYPE_MISMATCH = 0xC0000024;

    public const uint ERROR_SUCCESS = 0;
    public const uint ERROR_INVALID_FUNCTION = 1;
    public const uint ERROR_ACCESS_DENIED = 5;
    public const uint ERROR_INVALID_HANDLE = 6;
    public const uint ERROR_GEN_FAILURE = 31;
    public const uint ERROR_HANDLE_EOF = 38;
    public const uint ERROR_INVALID_PARAMETER = 87;
    public const uint ERROR_INSUFFICIENT_BUFFER = 122;
    public const uint ERROR_MORE_DATA = 234;
    public const uint ERROR_MR_MID_NOT_FOUND = 317;
    public const uint ERROR_NOACCESS = 998;

    public const uint FILE_READ_DATA = 0x0001;
    public const uint FILE_WRITE_DATA = 0x0002;
    public const uint FILE_APPEND_DATA = 0x0004;
    public const uint FILE_READ_ATTRIBUTES = 0x0080;
    public const uint SYNCHRONIZE = 0x00100000;
    public const uint GENERIC_READ = 0x80000000;
    public const uint GENERIC_WRITE = 0x40000000;
    /// <summary>FILE_GENERIC_READ: READ_CONTROL | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE.</summary>
    public const uint FILE_GENERIC_READ = 0x00120089;
    /// <summary>FILE_GENERIC_WRITE: READ_CONTROL | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA | FILE_APPEND_DATA | SYNCHRONIZE.</summary>
    public const uint FILE_GENERIC_WRITE = 0x00120116;

    public const uint FILE_SYNCHRONOUS_IO_NONALERT = 0x20;
    public const uint FILE_FLAG_OVERLAPPED = 0x40000000;

    public static bool NT_SUCCESS(uint status) => (int)status >= 0;
    public static bool NT_ERROR(uint status) => status >> 30 == 3;

    /// <summary>RtlNtStatusToDosError for the statuses these tests produce (Wine error.c, asserted on Windows).</summary>
    public static uint DosError(uint status) => status switch
    {
        STATUS_SUCCESS => ERROR_SUCCESS,
        STATUS_TIMEOUT => 1460, // ERROR_TIMEOUT
        STATUS_BUFFER_OVERFLOW => ERROR_MORE_DATA,
        STATUS_UNSUCCESSFUL => ERROR_GEN_FAILURE,
        STATUS_NOT_IMPLEMENTED => ERROR_INVALID_FUNCTION,
        STATUS_INVALID_INFO_CLASS => ERROR_INVALID_PARAMETER,
        STATUS_INFO_LENGTH_MISMATCH => 24, // ERROR_BAD_LENGTH
        STATUS_ACCESS_VIOLATION => ERROR_NOACCESS,
        STATUS_INVALID_HANDLE => ERROR_INVALID_HANDLE,
        STATUS_INVALID_PARAMETER => ERROR_INVALID_PARAMETER,
        STATUS_INVALID_DEVICE_REQUEST => ERROR_INVALID_FUNCTION,
        STATUS_END_OF_FILE => ERROR_HANDLE_EOF,
        STATUS_ACCESS_DENIED => ERROR_ACCESS_DENIED,
        STATUS_BUFFER_TOO_SMALL => ERROR_INSUFFICIENT_BUFFER,
        STATUS_OBJECT_TYPE_MISMATCH => ERROR_INVALID_HANDLE,
        // Not in the table (Wine's 0x?eadbeef probes): ERROR_MR_MID_NOT_FOUND.
        0x8EADBEEF or 0xCEADBEEF => ERROR_MR_MID_NOT_FOUND,
        _ => throw new ArgumentOutOfRangeException(nameof(status), $"0x{status:X8}: add its Windows mapping"),
    };

    /// <summary>Status names used as theory data (readable test names), and their values.</summary>
    public static uint Status(string name) => name switch
    {
        "STATUS_SUCCESS" => STATUS_SUCCESS,
        "STATUS_TIMEOUT" => STATUS_TIMEOUT,
        "STATUS_PENDING" => STATUS_PENDING,
        "0x4EADBEEF" => 0x4EADBEEF,
        "STATUS_BUFFER_OVERFLOW" => STATUS_BUFFER_OVERFLOW,
        "STATUS_OBJECT_NAME_EXISTS" => STATUS_OBJECT_NAME_EXISTS,
        "STATUS_DEVICE_BUSY" => STATUS_DEVICE_BUSY,
        "STATUS_VERIFY_REQUIRED" => STATUS_VERIFY_REQUIRED,
        "0x8EADBEEF" => 0x8EADBEEF,
        "STATUS_UNSUCCESSFUL" => STATUS_UNSUCCESSFUL,
        "STATUS_NOT_IMPLEMENTED" => STATUS_NOT_IMPLEMENTED,
        "STATUS_END_OF_FILE" => STATUS_END_OF_FILE,
        "0xCEADBEEF" => 0xCEADBEEF,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name),
    };
}

/// <summary>A handle that closes itself.</summary>
internal sealed class OwnedHandle(nint value) : IDisposable
{
    public nint Value { get; } = value;

    public static implicit operator nint(OwnedHandle handle) => handle.Value;

    public void Dispose() => Kernel32.CloseHandle(Value);
}

/// <summary>Wine-style helpers: patterned buffers, a sentinel IOSB, raw calls with explicit lengths.</summary>
internal static unsafe class IoHelpers
{
    /// <summary>What an IOSB holds before a call, so "untouched" can be seen (Wine uses 0xdeadf00d).</summary>
    public const int SentinelStatus = unchecked((int)0xDEADF00D);
    public const nuint SentinelInformation = 0xDEADF00D;
    public const uint SentinelLastError = 0xDEADBEEF;
    public const uint SentinelBytes = 0xDEADF00D;
    /// <summary>What the test driver writes into output buffers ("ghijkl" in Wine's test; one byte here).</summary>
    public const byte Fill = (byte)'g';

    public static IO_STATUS_BLOCK SentinelIosb() => new() { Status = SentinelStatus, Information = SentinelInformation };

    /// <summary>Wine's caller buffer: "abcdef\0" (7 bytes), or a longer run of the same pattern.</summary>
    public static byte[] Pattern(int length = 7)
    {
        var buffer = new byte[length];
        for (var i = 0; i < length; i++) buffer[i] = (byte)('a' + (i % 26));
        if (length == 7) buffer[6] = 0;
        return buffer;
    }

    public static OwnedHandle Open(string tag, string variant = "", uint access = KbTest.ReadWrite, uint flags = 0) =>
        new(KbTest.Open(tag, variant, access, flags));

    /// <summary>NtCreateFile on \??\KbTest{variant}{tag} with exactly <paramref name="access"/> (no extra bits, unlike CreateFile).</summary>
    public static OwnedHandle NtOpen(string tag, uint access, string variant = "", bool synchronous = true)
    {
        nint handle;
        var iosb = SentinelIosb();
        var status = Ntdll.NtCreateFile(&handle, access, new ObjectAttributes($@"\??\{KbTestInterface.ServiceName}{variant}{tag}"), &iosb, 0,
            ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE, CreateDisposition.FILE_OPEN,
            synchronous ? CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT : CreateOptions.None);
        Assert.True(status.IsSuccess, $"NtCreateFile({tag}, 0x{access:X}) failed with {status}");
        return new OwnedHandle(handle);
    }

    public static ReturnRequest Request(uint dispatch, uint iosb, long information = 3, PendMode pend = PendMode.None, int fillLength = 6,
        int delayMs = 0) =>
        new(unchecked((int)dispatch), unchecked((int)iosb), information, pend, delayMs, Fill, fillLength);

    public static CtlCode ReturnCode(TransferMethod method) => method switch
    {
        TransferMethod.METHOD_BUFFERED => KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED,
        TransferMethod.METHOD_IN_DIRECT => KbTestInterface.IOCTL_KBTEST_RETURN_IN_DIRECT,
        TransferMethod.METHOD_OUT_DIRECT => KbTestInterface.IOCTL_KBTEST_RETURN_OUT_DIRECT,
        _ => KbTestInterface.IOCTL_KBTEST_RETURN_NEITHER,
    };

    /// <summary>NtDeviceIoControlFile passing only the first <paramref name="outputLength"/> bytes of <paramref name="output"/>.</summary>
    public static uint NtIoctl(nint handle, uint code, byte[]? input, byte[]? output, int outputLength, ref IO_STATUS_BLOCK iosb)
    {
        fixed (byte* inPointer = input)
        fixed (byte* outPointer = output)
        fixed (IO_STATUS_BLOCK* iosbPointer = &iosb)
        {
            return ReturnValue(Ntdll.NtDeviceIoControlFile(handle, 0, 0, 0, iosbPointer, code, inPointer, (uint)(input?.Length ?? 0),
                outPointer, (uint)outputLength));
        }
    }

    public static uint NtIoctl(nint handle, uint code, byte[]? input, byte[]? output, ref IO_STATUS_BLOCK iosb) =>
        NtIoctl(handle, code, input, output, output?.Length ?? 0, ref iosb);

    /// <summary>DeviceIoControl (synchronous) with raw pointers; the last error is set to a sentinel first.</summary>
    public static bool Win32Ioctl(nint handle, uint code, byte[]? input, byte[]? output, int outputLength, ref uint bytesReturned)
    {
        Kernel32.SetLastError(SentinelLastError);
        fixed (byte* inPointer = input)
        fixed (byte* outPointer = output)
        fixed (uint* returned = &bytesReturned)
        {
            return Kernel32.DeviceIoControl(handle, code, inPointer, (uint)(input?.Length ?? 0), outPointer, (uint)outputLength, returned, null);
        }
    }

    public static bool Win32Ioctl(nint handle, uint code, byte[]? input, byte[]? output, ref uint bytesReturned) =>
        Win32Ioctl(handle, code, input, output, output?.Length ?? 0, ref bytesReturned);

    public static uint NtRead(nint handle, byte[] buffer, int length, ref IO_STATUS_BLOCK iosb)
    {
        fixed (byte* pointer = buffer)
        fixed (IO_STATUS_BLOCK* iosbPointer = &iosb)
        {
            return ReturnValue(Ntdll.NtReadFile(handle, 0, 0, 0, iosbPointer, pointer, (uint)length, null, null));
        }
    }

    public static uint NtWrite(nint handle, byte[] buffer, ref IO_STATUS_BLOCK iosb)
    {
        fixed (byte* pointer = buffer)
        fixed (IO_STATUS_BLOCK* iosbPointer = &iosb)
        {
            return ReturnValue(Ntdll.NtWriteFile(handle, 0, 0, 0, iosbPointer, pointer, (uint)buffer.Length, null, null));
        }
    }

    /// <summary>ReadFile (synchronous) of the first <paramref name="length"/> bytes; bytes read pre-set to a sentinel, last error too.</summary>
    public static bool Win32Read(nint handle, byte[] buffer, int length, out uint bytesRead)
    {
        Kernel32.SetLastError(SentinelLastError);
        uint read = SentinelBytes;
        fixed (byte* pointer = buffer)
        {
            var ok = Kernel32.ReadFile(handle, pointer, (uint)length, &read, null);
            bytesRead = read;
            return ok;
        }
    }

    public static bool Win32Write(nint handle, byte[] buffer, out uint bytesWritten)
    {
        Kernel32.SetLastError(SentinelLastError);
        uint written = SentinelBytes;
        fixed (byte* pointer = buffer)
        {
            var ok = Kernel32.WriteFile(handle, pointer, (uint)buffer.Length, &written, null);
            bytesWritten = written;
            return ok;
        }
    }

    public static uint NtQueryFile(nint handle, byte[]? buffer, int length, uint informationClass, ref IO_STATUS_BLOCK iosb)
    {
        fixed (byte* pointer = buffer)
        fixed (IO_STATUS_BLOCK* iosbPointer = &iosb)
        {
            return ReturnValue(Ntdll.NtQueryInformationFile(handle, iosbPointer, pointer, (uint)length, (FileInformationClass)informationClass));
        }
    }

    /// <summary>Steers the tag's reads and writes (IOCTL_KBTEST_SET_RW).</summary>
    public static void SetReadWrite(nint handle, ReturnRequest request)
    {
        uint returned = 0;
        Assert.True(Kernel32.DeviceIoControl(handle, KbTestInterface.IOCTL_KBTEST_SET_RW.Value, KbTest.Bytes(request), [], ref returned),
            $"SET_RW failed: {Kernel32.GetLastError()}");
    }

    public static uint ReturnValue(NtStatus status) => status.Code;

    public static string Hex(uint value) => $"0x{value:X8}";

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes);

    /// <summary>The IOSB as "status/information" for messages.</summary>
    public static string Show(in IO_STATUS_BLOCK iosb) => $"{{0x{(uint)iosb.Status:X8}, 0x{iosb.Information:X}}}";

    public static void AssertIosbUntouched(in IO_STATUS_BLOCK iosb, string because = "")
    {
        Assert.True(iosb.Status == SentinelStatus && iosb.Information == SentinelInformation,
            $"IOSB should be untouched {because}, but is {Show(iosb)}");
    }

    public static void AssertIosb(in IO_STATUS_BLOCK iosb, uint status, ulong information, string because = "")
    {
        Assert.True((uint)iosb.Status == status && iosb.Information == (nuint)information,
            $"IOSB should be {{0x{status:X8}, 0x{information:X}}} {because}, but is {Show(iosb)}");
    }

    public static void AssertBytes(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, string because = "") =>
        Assert.True(expected.SequenceEqual(actual), $"buffer should be {Hex(expected)} {because}, but is {Hex(actual)}");

    /// <summary>The driver's fill in the first <paramref name="count"/> bytes of <paramref name="original"/>.</summary>
    public static byte[] Filled(byte[] original, int count)
    {
        var result = (byte[])original.Clone();
        result.AsSpan(0, count).Fill(Fill);
        return result;
    }

    public static int SizeOfReturnRequest => Marshal.SizeOf<ReturnRequest>();
}
