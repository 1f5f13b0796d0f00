using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Async;

/// <summary>
/// Windows' values, written out here (not taken from the code under test): ntstatus.h, winerror.h,
/// winbase.h, and RtlNtStatusToDosError as Wine's conformance tests assert it on Windows
/// (/tmp/research/issue3-facts.md section 0).
/// </summary>
internal static class W
{
    public const uint STATUS_SUCCESS = 0x00000000;
    public const uint STATUS_ABANDONED_WAIT_0 = 0x00000080;
    public const uint STATUS_USER_APC = 0x000000C0;
    public const uint STATUS_TIMEOUT = 0x00000102;
    public const uint STATUS_PENDING = 0x00000103;
    public const uint STATUS_BUFFER_OVERFLOW = 0x80000005;
    public const uint STATUS_NOT_IMPLEMENTED = 0xC0000002;
    public const uint STATUS_INVALID_PARAMETER = 0xC000000D;
    public const uint STATUS_END_OF_FILE = 0xC0000011;
    public const uint STATUS_CANCELLED = 0xC0000120;
    public const uint STATUS_NOT_FOUND = 0xC0000225;

    public const uint ERROR_SUCCESS = 0;
    public const uint ERROR_INVALID_FUNCTION = 1;
    public const uint ERROR_HANDLE_EOF = 38;
    public const uint ERROR_INVALID_PARAMETER = 87;
    public const uint ERROR_MORE_DATA = 234;
    public const uint ERROR_ABANDONED_WAIT_0 = 735;
    public const uint ERROR_OPERATION_ABORTED = 995;
    public const uint ERROR_IO_INCOMPLETE = 996;
    public const uint ERROR_IO_PENDING = 997;
    public const uint ERROR_NOT_FOUND = 1168;

    public const uint WAIT_OBJECT_0 = 0;
    public const uint WAIT_IO_COMPLETION = 0xC0;
    public const uint WAIT_TIMEOUT = 0x102;

    public const uint FILE_FLAG_OVERLAPPED = 0x40000000;
    public const uint THREAD_TERMINATE = 0x0001;
    public const uint THREAD_SET_CONTEXT = 0x0010;
    public const byte FILE_SKIP_COMPLETION_PORT_ON_SUCCESS = 1;
    public const byte FILE_SKIP_SET_EVENT_ON_HANDLE = 2;

    public static bool NT_SUCCESS(uint status) => (int)status >= 0;
    public static bool NT_ERROR(uint status) => status >> 30 == 3;

    public static string Hex(uint value) => $"0x{value:X8}";
}

/// <summary>Helpers for overlapped I/O against the test driver: handles, ports, native memory, bounded waits, threads.</summary>
internal static unsafe class AsyncTest
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>What an IOSB holds before a call, so "untouched" can be seen (Wine uses 0xdeadf00d).</summary>
    public const int SentinelStatus = unchecked((int)0xDEADF00D);
    public const nuint SentinelInformation = 0xDEADF00D;
    public const uint SentinelBytes = 0xDEADF00D;
    public const uint SentinelLastError = 0xDEADBEEF;
    /// <summary>What the test driver writes into output buffers.</summary>
    public const byte Fill = (byte)'g';

    public const nuint Key = 123;
    public const nint ApcContext = 456;

    /// <summary>CreateFile(\\.\KbTest{tag}, FILE_FLAG_OVERLAPPED).</summary>
    public static nint OpenOverlapped(string tag, string variant = "") => KbTest.Open(tag, variant, flags: W.FILE_FLAG_OVERLAPPED);

    /// <summary>CreateFile(\\.\KbTest{tag}) without FILE_FLAG_OVERLAPPED: a synchronous handle.</summary>
    public static nint OpenSynchronous(string tag) => KbTest.Open(tag);

    public static nint NewEvent(bool manualReset = true, bool initialState = false)
    {
        var handle = Kernel32.CreateEvent(0, manualReset, initialState, null);
        Assert.True(handle != 0, $"CreateEvent failed: {Kernel32.GetLastError()}");
        return handle;
    }

    /// <summary>A new completion port (CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, n)).</summary>
    public static nint NewPort(uint concurrency = 0)
    {
        var port = Kernel32.CreateIoCompletionPort(Kernel32.INVALID_HANDLE_VALUE, 0, 0, concurrency);
        Assert.True(port != 0, $"CreateIoCompletionPort failed: {Kernel32.GetLastError()}");
        return port;
    }

    /// <summary>Associates <paramref name="file"/> with <paramref name="port"/> under <paramref name="key"/>; asserts it worked.</summary>
    public static void Associate(nint file, nint port, nuint key = Key)
    {
        var result = Kernel32.CreateIoCompletionPort(file, port, key, 0);
        Assert.True(result == port, $"associating the file with the port failed: {Kernel32.GetLastError()}");
    }

    public static void Close(nint handle)
    {
        if (handle != 0 && handle != Kernel32.INVALID_HANDLE_VALUE) Kernel32.CloseHandle(handle);
    }

    /// <summary>WaitForSingleObject(h, 0) == WAIT_OBJECT_0.</summary>
    public static bool IsSignalled(nint handle) => Kernel32.WaitForSingleObject(handle, 0) == W.WAIT_OBJECT_0;

    /// <summary>Waits (bounded) for <paramref name="handle"/>.</summary>
    public static bool WaitSignalled(nint handle, uint milliseconds = 10_000) => Kernel32.WaitForSingleObject(handle, milliseconds) == W.WAIT_OBJECT_0;

    public readonly record struct Packet(uint Status, nint Key, nint ApcContext, int IosbStatus, nuint Information)
    {
        public override string ToString() =>
            $"status {W.Hex(Status)}: {{key {Key}, context 0x{ApcContext:X}, {W.Hex((uint)IosbStatus)}, {Information}}}";
    }

    /// <summary>NtRemoveIoCompletion with a timeout in milliseconds (0: do not wait).</summary>
    public static Packet Remove(nint port, uint milliseconds)
    {
        long timeout = -(long)milliseconds * 10_000;
        nint key = 0x7777, context = 0x7777;
        var iosb = new IO_STATUS_BLOCK { Status = SentinelStatus, Information = SentinelInformation };
        var status = Ntdll.NtRemoveIoCompletion(port, &key, &context, &iosb, &timeout);
        return new Packet(status.Code, key, context, iosb.Status, iosb.Information);
    }

    /// <summary>How many packets wait in the port.</summary>
    public static int Depth(nint port)
    {
        var status = Ntdll.NtQueryIoCompletion(port, out var depth);
        Assert.True(status == NtStatus.STATUS_SUCCESS, $"NtQueryIoCompletion: {status}");
        return depth;
    }

    /// <summary>Runs this thread's pending user APCs (bounded) and forgets what the recorder saw.</summary>
    public static void DrainApcs()
    {
        for (var i = 0; i < 20 && Kernel32.SleepEx(0, true) == W.WAIT_IO_COMPLETION; i++)
        {
        }
        ApcRecorder.Clear();
    }

    public static byte[] Input(ReturnRequest request) => KbTest.Bytes(request);

    public static ReturnRequest Request(uint dispatch, uint iosb, long information = 3, PendMode pend = PendMode.None, int delayMs = 0,
        int fillLength = 6) =>
        new(unchecked((int)dispatch), unchecked((int)iosb), information, pend, delayMs, Fill, fillLength);

    public static CtlCode ReturnCode(TransferMethod method) => method switch
    {
        TransferMethod.METHOD_BUFFERED => KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED,
        TransferMethod.METHOD_IN_DIRECT => KbTestInterface.IOCTL_KBTEST_RETURN_IN_DIRECT,
        TransferMethod.METHOD_OUT_DIRECT => KbTestInterface.IOCTL_KBTEST_RETURN_OUT_DIRECT,
        _ => KbTestInterface.IOCTL_KBTEST_RETURN_NEITHER,
    };

    /// <summary>NtDeviceIoControlFile with a RETURN code; the IOSB and output are the caller's native memory.</summary>
    public static uint NtReturnIoctl(nint file, nint @event, nint apcRoutine, nint apcContext, IO_STATUS_BLOCK* iosb, TransferMethod method,
        ReturnRequest request, byte* output, uint outputLength)
    {
        var input = Input(request);
        fixed (byte* inPointer = input)
        {
            return Ntdll.NtDeviceIoControlFile(file, @event, apcRoutine, apcContext, iosb, ReturnCode(method).Value, inPointer, (uint)input.Length,
                output, outputLength).Code;
        }
    }

    /// <summary>Kernel32.DeviceIoControl(RETURN_BUFFERED) on an OVERLAPPED; the last error is set to a sentinel first.</summary>
    public static bool Win32ReturnIoctl(nint file, ReturnRequest request, byte* output, uint outputLength, uint* bytesReturned, OVERLAPPED* overlapped,
        TransferMethod method = TransferMethod.METHOD_BUFFERED)
    {
        var input = Input(request);
        Kernel32.SetLastError(SentinelLastError);
        fixed (byte* inPointer = input)
        {
            return Kernel32.DeviceIoControl(file, ReturnCode(method).Value, inPointer, (uint)input.Length, output, outputLength, bytesReturned, overlapped);
        }
    }

    /// <summary>Steers the tag's reads and writes (IOCTL_KBTEST_SET_RW), through a synchronous handle of its own.</summary>
    public static void SetReadWrite(string tag, ReturnRequest request)
    {
        var handle = OpenSynchronous(tag);
        try
        {
            uint returned = 0;
            Assert.True(Kernel32.DeviceIoControl(handle, KbTestInterface.IOCTL_KBTEST_SET_RW.Value, Input(request), [], ref returned),
                $"SET_RW failed: {Kernel32.GetLastError()}");
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    /// <summary>An overlapped IOCTL that the driver parks (cancellable) until released; returns the Win32 result.</summary>
    public static bool IssueParked(nint file, OVERLAPPED* overlapped)
    {
        uint bytes = SentinelBytes;
        return Win32ReturnIoctl(file, Request(W.STATUS_PENDING, W.STATUS_SUCCESS, 0, PendMode.Park, fillLength: 0), null, 0, &bytes, overlapped);
    }

    /// <summary>Polls (bounded) until the driver holds <paramref name="count"/> parked IRPs for the tag.</summary>
    public static void WaitParked(string tag, int count)
    {
        Assert.True(KbTest.Eventually(() => KbTest.Counters(tag).Parked == count), $"expected {count} parked IRPs; counters: {KbTest.Counters(tag)}");
    }

    /// <summary>Completes the tag's parked IRPs, for cleanup: never throws, bounded.</summary>
    public static void ReleaseQuietly(string tag, NtStatus? status = null)
    {
        try
        {
            var release = Task.Factory.StartNew(() => KbTest.Release(tag, status ?? NtStatus.STATUS_CANCELLED), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default);
            release.Wait(Timeout);
        }
        catch (AggregateException)
        {
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a new, real thread (the kernel knows threads by their Linux
    /// thread id, so this is another thread to it). The task ends when the work does.
    /// </summary>
    public static Task<T> OnNewThread<T>(Func<T> work, string name = "async test")
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                result.SetResult(work());
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return result.Task;
    }

    /// <summary>Waits for <paramref name="task"/> (bounded) and returns its result.</summary>
    public static T Await<T>(Task<T> task, TimeSpan? timeout = null)
    {
        Assert.True(task.Wait(timeout ?? Timeout), "a blocking call did not return in time");
        return task.Result;
    }

    /// <summary>Whether <paramref name="task"/> ends within <paramref name="timeout"/>.</summary>
    public static bool EndsWithin(Task task, TimeSpan timeout)
    {
        try
        {
            return task.Wait(timeout);
        }
        catch (AggregateException)
        {
            return true;
        }
    }

    /// <summary>Runs <paramref name="work"/> on a new thread and waits for it, bounded.</summary>
    public static T Bounded<T>(Func<T> work, TimeSpan? timeout = null) => Await(OnNewThread(work), timeout);
}

/// <summary>Unmanaged, zeroed memory for one <typeparamref name="T"/> (an IOSB, an OVERLAPPED): it outlives the request that writes it.</summary>
internal sealed unsafe class Native<T> : IDisposable where T : unmanaged
{
    public Native()
    {
        Pointer = (T*)NativeMemory.AllocZeroed((nuint)sizeof(T));
    }

    public T* Pointer { get; private set; }

    public ref T Value => ref *Pointer;

    public void Dispose()
    {
        if (Pointer is not null) NativeMemory.Free(Pointer);
        Pointer = null;
    }
}

/// <summary>Unmanaged bytes that do not move: an output buffer an overlapped request may write after the call returned.</summary>
internal sealed unsafe class NativeBytes : IDisposable
{
    public NativeBytes(int length)
    {
        Length = length;
        Pointer = (byte*)NativeMemory.AllocZeroed((nuint)Math.Max(length, 1));
    }

    /// <summary>Wine's caller buffer: "abcdef\0".</summary>
    public static NativeBytes Abcdef()
    {
        var buffer = new NativeBytes(7);
        "abcdef\0"u8.CopyTo(buffer.Span);
        return buffer;
    }

    public byte* Pointer { get; private set; }
    public int Length { get; }
    public Span<byte> Span => new(Pointer, Length);
    public string Text => System.Text.Encoding.ASCII.GetString(Span).Replace("\0", "\\0", StringComparison.Ordinal);

    public void Dispose()
    {
        if (Pointer is not null) NativeMemory.Free(Pointer);
        Pointer = null;
    }
}

/// <summary>An I/O APC routine (IO_APC_ROUTINE: ApcContext, IoStatusBlock, Reserved) that records every call.</summary>
internal static unsafe class ApcRecorder
{
    public readonly record struct Call(nint ApcContext, nint IoStatusBlock, nint Reserved, int IosbStatus, nuint IosbInformation, int ManagedThreadId);

    private static readonly ConcurrentQueue<Call> Calls = new();

    public static nint Routine => (nint)(delegate* unmanaged<nint, nint, nint, void>)&Record;

    [UnmanagedCallersOnly]
    private static void Record(nint apcContext, nint ioStatusBlock, nint reserved)
    {
        var iosb = (IO_STATUS_BLOCK*)ioStatusBlock;
        Calls.Enqueue(new Call(apcContext, ioStatusBlock, reserved, iosb is null ? 0 : iosb->Status, iosb is null ? 0 : iosb->Information,
            Environment.CurrentManagedThreadId));
    }

    public static Call[] Snapshot() => [.. Calls];

    public static void Clear() => Calls.Clear();
}
