using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.TestFilterDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Stack;

/// <summary>
/// Windows' values, written out (ntstatus.h, winerror.h, RtlNtStatusToDosError as Wine's
/// conformance tests assert it) so the expectations do not come from the code under test.
/// See /tmp/research/issue3-facts.md section 0.
/// </summary>
internal static class WinValues
{
    public const uint STATUS_SUCCESS = 0x00000000;
    public const uint STATUS_PENDING = 0x00000103;
    public const uint STATUS_BUFFER_OVERFLOW = 0x80000005;
    public const uint STATUS_NOT_IMPLEMENTED = 0xC0000002;
    public const uint STATUS_INVALID_HANDLE = 0xC0000008;
    public const uint STATUS_INVALID_PARAMETER = 0xC000000D;
    public const uint STATUS_ACCESS_DENIED = 0xC0000022;
    public const uint STATUS_OBJECT_TYPE_MISMATCH = 0xC0000024;
    public const uint STATUS_CANCELLED = 0xC0000120;
    public const uint STATUS_NOT_FOUND = 0xC0000225;

    public const uint ERROR_INVALID_FUNCTION = 1;
    public const uint ERROR_ACCESS_DENIED = 5;
    public const uint ERROR_INVALID_HANDLE = 6;
    public const uint ERROR_INVALID_PARAMETER = 87;
    public const uint ERROR_MORE_DATA = 234;
    public const uint ERROR_OPERATION_ABORTED = 995;
    public const uint ERROR_IO_INCOMPLETE = 996;
    public const uint ERROR_IO_PENDING = 997;
    public const uint ERROR_NOT_FOUND = 1168;

    public const uint WAIT_OBJECT_0 = 0;
    public const uint WAIT_TIMEOUT = 0x102;

    public const uint FILE_FLAG_OVERLAPPED = 0x40000000;
    public const uint SYNCHRONIZE = 0x00100000;
    public const uint EVENT_MODIFY_STATE = 0x0002;

    /// <summary>CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS): the event sample's IOCTL_REGISTER_EVENT.</summary>
    public const uint IOCTL_REGISTER_EVENT = 0x00222000;
}

/// <summary>Helpers for the device-stack, event-sample and async-layer tests: bounded waits, the filter's control device, native buffers.</summary>
internal static unsafe class StackTest
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public const string StackVariant = "Stack";

    /// <summary>\\.\KbTestStack{tag}: enters at the top of the stack, the filter.</summary>
    public static string StackPath(string tag) => KbTest.Path(tag, StackVariant);

    /// <summary>A blocking call on a dedicated thread, so a test can bound it with WaitAsync.</summary>
    public static Task<T> RunBlocking<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>A blocking call made through <paramref name="gate"/> from a dedicated thread.</summary>
    public static Task<T> RunBlocking<T>(GateClient gate, Func<T> work) => RunBlocking(() =>
    {
        using (GateClient.Use(gate)) return work();
    });

    /// <summary>Runs a blocking call and waits for it, bounded.</summary>
    public static Task<T> Bounded<T>(Func<T> work) => RunBlocking(work).WaitAsync(Timeout);

    /// <summary>
    /// Issues overlapped I/O from one long-lived thread. A thread that exits takes the I/O it issued
    /// with it (IoCancelThreadIo), so a request meant to outlive its call must not be issued from a
    /// throwaway thread.
    /// </summary>
    public static Task<T> Issue<T>(Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        IssuerQueue.Add(() =>
        {
            try
            {
                done.SetResult(work());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task.WaitAsync(Timeout);
    }

    private static readonly System.Collections.Concurrent.BlockingCollection<Action> IssuerQueue = StartIssuer();

    private static System.Collections.Concurrent.BlockingCollection<Action> StartIssuer()
    {
        var queue = new System.Collections.Concurrent.BlockingCollection<Action>();
        new Thread(() =>
        {
            foreach (var action in queue.GetConsumingEnumerable()) action();
        }) { IsBackground = true, Name = "overlapped issuer" }.Start();
        return queue;
    }

    /// <summary>Polls (bounded) on a dedicated thread, so a hung kernel fails the test instead of hanging it.</summary>
    public static Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan? timeout = null) =>
        RunBlocking(() => KbTest.Eventually(condition, timeout)).WaitAsync((timeout ?? TimeSpan.FromSeconds(10)) + Timeout);

    public static byte[] Input(ReturnRequest request) => KbTest.Bytes(request);

    // ---- The filter's control device ----

    public static KbFilterCounters FilterCounters()
    {
        var control = Kernel32.CreateFile(KbFilterDriver.ControlWin32Name, 0, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.True(control != Kernel32.INVALID_HANDLE_VALUE, $"opening {KbFilterDriver.ControlWin32Name} failed with {Kernel32.GetLastError()}");
        try
        {
            var output = new byte[Marshal.SizeOf<KbFilterCounters>()];
            uint returned = 0;
            Assert.True(Kernel32.DeviceIoControl(control, KbFilterDriver.IOCTL_KBFILTER_COUNTERS.Value, [], output, ref returned),
                $"IOCTL_KBFILTER_COUNTERS failed with {Kernel32.GetLastError()}");
            return MemoryMarshal.Read<KbFilterCounters>(output);
        }
        finally
        {
            Kernel32.CloseHandle(control);
        }
    }

    public static void SetFilterMode(FilterMode mode)
    {
        var control = Kernel32.CreateFile(KbFilterDriver.ControlWin32Name, 0, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.True(control != Kernel32.INVALID_HANDLE_VALUE, $"opening {KbFilterDriver.ControlWin32Name} failed with {Kernel32.GetLastError()}");
        try
        {
            uint returned = 0;
            Assert.True(Kernel32.DeviceIoControl(control, KbFilterDriver.IOCTL_KBFILTER_SET_MODE.Value, KbTest.Bytes((int)mode), [], ref returned),
                $"IOCTL_KBFILTER_SET_MODE failed with {Kernel32.GetLastError()}");
        }
        finally
        {
            Kernel32.CloseHandle(control);
        }
    }

    /// <summary>Puts the filter back in its normal mode; for finally blocks (bounded, never throws).</summary>
    public static void RestoreFilterMode()
    {
        try
        {
            RunBlocking(() =>
            {
                SetFilterMode(FilterMode.Continue);
                return 0;
            }).Wait(Timeout);
        }
        catch (AggregateException)
        {
        }
    }

    /// <summary>Completes the tag's parked IRPs, for cleanup: never throws, bounded.</summary>
    public static void ReleaseQuietly(string tag, NtStatus status)
    {
        try
        {
            RunBlocking(() => KbTest.Release(tag, status)).Wait(Timeout);
        }
        catch (AggregateException)
        {
        }
    }

    /// <summary>
    /// Disposes on a dedicated thread, bounded: closing a handle on a connection whose reader is
    /// stuck would otherwise block the test forever. Never throws.
    /// </summary>
    public static bool DisposeBounded(IDisposable? disposable)
    {
        if (disposable is null) return true;
        try
        {
            return RunBlocking(() =>
            {
                disposable.Dispose();
                return true;
            }).Wait(Timeout);
        }
        catch (AggregateException)
        {
            return false;
        }
    }

    /// <summary>
    /// Disposes a connection of the test's own, even one whose reader thread is stuck (a client
    /// deadlock a test found): GateClient.Dispose shuts the socket and waits 5 s for the reader; a
    /// call made meanwhile fails to send, which fails every waiting call, which can unstick the
    /// reader so that it exits before its receive buffer is freed under it. Bounded; never throws.
    /// </summary>
    public static void DisposeGate(GateClient gate)
    {
        var disposing = RunBlocking(() =>
        {
            gate.Dispose();
            return true;
        });
        if (!disposing.Wait(TimeSpan.FromMilliseconds(500)))
        {
            try
            {
                KernelControl.QueryState(gate);
            }
            catch (NtStatusException)
            {
            }
        }
        try
        {
            disposing.Wait(Timeout);
        }
        catch (AggregateException)
        {
        }
    }

    /// <summary>CreateFile that reports the last error instead of asserting.</summary>
    public static (nint Handle, uint LastError) CreateFile(string name, uint flags = 0, uint access = KbTest.ReadWrite)
    {
        Kernel32.SetLastError(0xDEADBEEF);
        var handle = Kernel32.CreateFile(name, access, 3, 0, CreationDisposition.OPEN_EXISTING, flags, 0);
        return (handle, Kernel32.GetLastError());
    }

    public static nint MustOpen(string name, uint flags = 0)
    {
        var (handle, error) = CreateFile(name, flags);
        Assert.True(handle != Kernel32.INVALID_HANDLE_VALUE, $"CreateFile({name}) failed with {error}");
        return handle;
    }

    /// <summary>DeviceIoControl on a synchronous handle: (ok, last error, bytes returned, output).</summary>
    public static (bool Ok, uint Error, uint Returned, byte[] Output) SyncIoctl(nint handle, uint code, byte[] input, int outputLength, byte fill = 0xCC)
    {
        var output = new byte[outputLength];
        Array.Fill(output, fill);
        uint returned = 0xDEAD;
        Kernel32.SetLastError(0xDEADBEEF);
        var ok = Kernel32.DeviceIoControl(handle, code, input, output, ref returned);
        return (ok, Kernel32.GetLastError(), returned, output);
    }

    /// <summary>The kernel's object and handle counts for one type.</summary>
    public static (int Objects, int Handles) TypeCount(KernelState state, string type)
    {
        var found = state.Types.FirstOrDefault(t => t.Name == type);
        return found is null ? (0, 0) : (found.Objects, found.Handles);
    }
}

/// <summary>
/// An overlapped request's memory, in native memory that does not move: the OVERLAPPED (with a
/// manual-reset event, as the docs advise), the input and the output buffer (filled with 0xCC).
/// Issue, wait and read on the same connection; dispose only once the request has ended.
/// </summary>
internal sealed unsafe class OverlappedIo : IDisposable
{
    public OverlappedIo(byte[] input, int outputLength, bool withEvent = true)
    {
        Overlapped = (OVERLAPPED*)NativeMemory.AllocZeroed((nuint)sizeof(OVERLAPPED));
        InputLength = input.Length;
        Input = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, input.Length));
        input.CopyTo(new Span<byte>(Input, input.Length));
        OutputLength = outputLength;
        Output = (byte*)NativeMemory.Alloc((nuint)Math.Max(1, outputLength));
        new Span<byte>(Output, outputLength).Fill(0xCC);
        if (withEvent)
        {
            Event = Kernel32.CreateEvent(0, true, false, null);
            Assert.True(Event != 0, $"CreateEvent failed with {Kernel32.GetLastError()}");
            Overlapped->hEvent = Event;
        }
    }

    public OVERLAPPED* Overlapped { get; private set; }
    public byte* Input { get; private set; }
    public int InputLength { get; }
    public byte* Output { get; private set; }
    public int OutputLength { get; }
    public nint Event { get; private set; }

    public uint Internal => (uint)Volatile.Read(ref Overlapped->Internal);
    public long InternalHigh => Overlapped->InternalHigh;
    public byte[] OutputBytes => new Span<byte>(Output, OutputLength).ToArray();

    /// <summary>DeviceIoControl with this OVERLAPPED: (returned TRUE, last error).</summary>
    public (bool Ok, uint Error) DeviceIoControl(nint handle, uint code)
    {
        Kernel32.SetLastError(0xDEADBEEF);
        var ok = Kernel32.DeviceIoControl(handle, code, InputLength == 0 ? null : Input, (uint)InputLength,
            OutputLength == 0 ? null : Output, (uint)OutputLength, null, Overlapped);
        return (ok, Kernel32.GetLastError());
    }

    /// <summary>CancelIoEx for this request: (TRUE?, last error).</summary>
    public (bool Ok, uint Error) CancelIoEx(nint handle)
    {
        Kernel32.SetLastError(0xDEADBEEF);
        var ok = Kernel32.CancelIoEx(handle, Overlapped);
        return (ok, Kernel32.GetLastError());
    }

    /// <summary>GetOverlappedResultEx with a bounded wait: (TRUE?, last error, bytes).</summary>
    public (bool Ok, uint Error, uint Bytes) Result(nint handle, uint milliseconds)
    {
        uint bytes = 0xDEAD;
        Kernel32.SetLastError(0xDEADBEEF);
        var ok = Kernel32.GetOverlappedResultEx(handle, Overlapped, &bytes, milliseconds, false);
        return (ok, Kernel32.GetLastError(), bytes);
    }

    /// <summary>Frees the memory but leaves the event handle alone: for requests issued on another connection, whose handles die with it.</summary>
    public void FreeMemoryOnly()
    {
        Event = 0;
        Dispose();
    }

    public void Dispose()
    {
        if (Event != 0) Kernel32.CloseHandle(Event);
        Event = 0;
        if (Overlapped is not null) NativeMemory.Free(Overlapped);
        if (Input is not null) NativeMemory.Free(Input);
        if (Output is not null) NativeMemory.Free(Output);
        Overlapped = null;
        Input = null;
        Output = null;
    }
}
