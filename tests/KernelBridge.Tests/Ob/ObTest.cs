using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.TestDriver;

namespace KernelBridge.Tests.Ob;

/// <summary>Helpers for the object-manager and handle tests: raw Nt* calls, bounded waits, native buffers.</summary>
internal static unsafe class ObTest
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public const uint SyncReadWrite = KbTest.ReadWrite | AccessMask.SYNCHRONIZE;
    public const uint DirectoryAccess = AccessMask.DIRECTORY_QUERY | AccessMask.DIRECTORY_TRAVERSE;

    /// <summary>OBJECT_NAME_INFORMATION / UNICODE_STRING size on x64.</summary>
    public const int UnicodeStringSize = 16;

    /// <summary>OBJECT_TYPE_INFORMATION size on x64.</summary>
    public const int TypeInformationSize = 104;

    /// <summary>OBJECT_DIRECTORY_INFORMATION size on x64.</summary>
    public const int DirectoryEntrySize = 32;

    /// <summary>A blocking call on a dedicated thread, so a test can bound it with WaitAsync.</summary>
    public static Task<T> RunBlocking<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>A blocking call made on <paramref name="gate"/> from a dedicated thread.</summary>
    public static Task<T> RunBlocking<T>(GateClient gate, Func<T> work) => RunBlocking(() =>
    {
        using (GateClient.Use(gate)) return work();
    });

    /// <summary>Runs a blocking call and waits for it, bounded.</summary>
    public static Task<T> Bounded<T>(Func<T> work) => RunBlocking(work).WaitAsync(Timeout);

    /// <summary>Polls (bounded) on a dedicated thread, so a hung kernel fails the test instead of hanging it.</summary>
    public static Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan? timeout = null) =>
        RunBlocking(() => KbTest.Eventually(condition, timeout)).WaitAsync((timeout ?? TimeSpan.FromSeconds(10)) + Timeout);

    /// <summary>A second process, as the kernel sees it: its own connection, process object and handle table.</summary>
    public static GateClient NewProcess(KernelFixture fixture) => GateClient.Connect(fixture.Instance, autoStart: false);

    public static NtStatus NtCreateFile(string name, out nint handle, uint access = SyncReadWrite,
        ObjectAttributeFlags attributes = ObjectAttributeFlags.OBJ_CASE_INSENSITIVE, nint root = 0,
        CreateOptions options = CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT)
    {
        nint value = 0;
        IO_STATUS_BLOCK iosb = default;
        var status = Ntdll.NtCreateFile(&value, access, new ObjectAttributes(name, attributes, root), &iosb, 0,
            ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE, CreateDisposition.FILE_OPEN, options);
        handle = status.IsSuccess ? value : 0;
        return status;
    }

    public static NtStatus OpenDirectory(string name, out nint handle, uint access = DirectoryAccess,
        ObjectAttributeFlags attributes = ObjectAttributeFlags.OBJ_CASE_INSENSITIVE, nint root = 0)
    {
        nint value;
        var status = Ntdll.NtOpenDirectoryObject(&value, access, new ObjectAttributes(name, attributes, root));
        handle = status.IsSuccess ? value : 0;
        return status;
    }

    public static NtStatus OpenLink(string name, out nint handle, uint access = AccessMask.SYMBOLIC_LINK_QUERY,
        ObjectAttributeFlags attributes = ObjectAttributeFlags.OBJ_CASE_INSENSITIVE, nint root = 0)
    {
        nint value;
        var status = Ntdll.NtOpenSymbolicLinkObject(&value, access, new ObjectAttributes(name, attributes, root));
        handle = status.IsSuccess ? value : 0;
        return status;
    }

    public static NtStatus Duplicate(nint source, out nint target, uint access, DuplicateOptions options, uint attributes = 0) =>
        Duplicate(PseudoHandles.CurrentProcess, source, PseudoHandles.CurrentProcess, out target, access, options, attributes);

    /// <summary>NtDuplicateObject; the target starts as 0x5555 so an unwritten one shows.</summary>
    public static NtStatus Duplicate(nint sourceProcess, nint source, nint targetProcess, out nint target, uint access, DuplicateOptions options,
        uint attributes = 0)
    {
        nint value = 0x5555;
        var status = Ntdll.NtDuplicateObject(sourceProcess, source, targetProcess, &value, access, attributes, options);
        target = value;
        return status;
    }

    /// <summary>NtDeviceIoControlFile with native (non-moving) output and IOSB, as an overlapped caller would pass them.</summary>
    public static NtStatus IoctlNative(nint handle, CtlCode code, byte[] input, NativeBuffer output, NativeBuffer iosb)
    {
        fixed (byte* inPointer = input)
        {
            return Ntdll.NtDeviceIoControlFile(handle, 0, 0, 0, (IO_STATUS_BLOCK*)iosb.Pointer, code.Value, inPointer, (uint)input.Length,
                output.Pointer, (uint)output.Length);
        }
    }

    public static void Close(nint handle)
    {
        if (handle != 0) Ntdll.NtClose(handle);
    }

    /// <summary>An IOCTL without buffers; returns the status (the NEEDS_* codes only check access).</summary>
    public static NtStatus Ioctl(nint handle, CtlCode code)
    {
        IO_STATUS_BLOCK iosb = default;
        return KbTest.Ioctl(handle, code, null, null, ref iosb);
    }

    /// <summary>The id of the file object's FsContext, as the test driver numbers them.</summary>
    public static long FsContext(nint handle)
    {
        var output = new byte[8];
        IO_STATUS_BLOCK iosb = default;
        var status = KbTest.Ioctl(handle, KbTestInterface.IOCTL_KBTEST_FSCONTEXT, null, output, ref iosb);
        Assert.True(status == NtStatus.STATUS_SUCCESS, $"FSCONTEXT on {handle} gave {status}");
        return MemoryMarshal.Read<long>(output);
    }

    /// <summary>Completes the tag's parked IRPs, for cleanup: never throws, bounded.</summary>
    public static void ReleaseQuietly(string tag, NtStatus status)
    {
        try
        {
            var release = RunBlocking(() => KbTest.Release(tag, status));
            release.Wait(Timeout);
        }
        catch (AggregateException)
        {
        }
    }

    /// <summary>The outcome of NtQueryObject into a buffer of a chosen size.</summary>
    public sealed record QueryResult(NtStatus Status, uint ReturnLength, byte[] Buffer, nint Address)
    {
        /// <summary>The UNICODE_STRING at <paramref name="offset"/>, read as the caller would (through its Buffer pointer).</summary>
        public UnicodeString StringAt(int offset) => UnicodeString.Read(Buffer, Address, offset);
    }

    /// <summary>NtQueryObject into native memory of <paramref name="length"/> bytes (filled with 0xCC first).</summary>
    public static QueryResult QueryObject(nint handle, ObjectInformationClass informationClass, int length)
    {
        using var buffer = new NativeBuffer(Math.Max(length, 1));
        uint returned = 0xDEADBEEF;
        var status = Ntdll.NtQueryObject(handle, informationClass, length == 0 ? null : buffer.Pointer, (uint)length, &returned);
        return new QueryResult(status, returned, buffer.Span[..length].ToArray(), (nint)buffer.Pointer);
    }

    /// <summary>The type name NtQueryObject(ObjectTypeInformation) reports.</summary>
    public static string TypeName(nint handle)
    {
        var result = QueryObject(handle, ObjectInformationClass.ObjectTypeInformation, 512);
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        return result.StringAt(0).Value;
    }

    /// <summary>The name NtQueryObject(ObjectNameInformation) reports.</summary>
    public static string ObjectName(nint handle)
    {
        var result = QueryObject(handle, ObjectInformationClass.ObjectNameInformation, 1024);
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        return result.StringAt(0).Value;
    }

    /// <summary>OBJECT_BASIC_INFORMATION's GrantedAccess and HandleCount.</summary>
    public static (uint GrantedAccess, int HandleCount) Basic(nint handle)
    {
        var result = QueryObject(handle, ObjectInformationClass.ObjectBasicInformation, 56);
        Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
        return (MemoryMarshal.Read<uint>(result.Buffer.AsSpan(4)), MemoryMarshal.Read<int>(result.Buffer.AsSpan(8)));
    }

    /// <summary>CreateFile that reports the last error instead of asserting.</summary>
    public static (nint Handle, uint LastError) CreateFile(string name, uint access = KbTest.ReadWrite, uint flags = 0)
    {
        Kernel32.SetLastError(0xDEADBEEF);
        var handle = Kernel32.CreateFile(name, access, 3, 0, CreationDisposition.OPEN_EXISTING, flags, 0);
        return (handle, Kernel32.GetLastError());
    }

    public static byte[] ReturnInput(ReturnRequest request) => KbTest.Bytes(request);
}

/// <summary>A UNICODE_STRING as found in a caller's buffer: its fields, and where its Buffer points.</summary>
internal readonly record struct UnicodeString(ushort Length, ushort MaximumLength, ulong BufferAddress, long Offset, string Value, bool Terminated)
{
    /// <summary>Reads the x64 UNICODE_STRING at <paramref name="at"/> in <paramref name="buffer"/> (which lived at <paramref name="address"/>).</summary>
    public static UnicodeString Read(byte[] buffer, nint address, int at)
    {
        var span = buffer.AsSpan(at);
        var length = MemoryMarshal.Read<ushort>(span);
        var maximum = MemoryMarshal.Read<ushort>(span[2..]);
        var pointer = MemoryMarshal.Read<ulong>(span[8..]);
        if (pointer == 0) return new UnicodeString(length, maximum, 0, -1, "", false);
        var offset = (long)(pointer - (ulong)address);
        if (offset < 0 || offset + length > buffer.Length) return new UnicodeString(length, maximum, pointer, offset, "<outside the buffer>", false);
        var value = MemoryMarshal.Cast<byte, char>(buffer.AsSpan((int)offset, length)).ToString();
        var terminated = offset + length + 2 <= buffer.Length && buffer[offset + length] == 0 && buffer[offset + length + 1] == 0;
        return new UnicodeString(length, maximum, pointer, offset, value, terminated);
    }
}

/// <summary>Unmanaged memory that does not move, filled with 0xCC so untouched bytes show.</summary>
internal sealed unsafe class NativeBuffer : IDisposable
{
    public NativeBuffer(int length)
    {
        Length = length;
        Pointer = (byte*)NativeMemory.Alloc((nuint)Math.Max(length, 1));
        Span.Fill(0xCC);
    }

    public byte* Pointer { get; private set; }
    public int Length { get; }
    public Span<byte> Span => new(Pointer, Length);

    public void Dispose()
    {
        if (Pointer is not null) NativeMemory.Free(Pointer);
        Pointer = null;
    }
}
