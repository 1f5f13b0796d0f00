using System.Diagnostics;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.PortSample;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// The Filter Manager's communication port, driven by the built-in PortSample driver: it sends over
/// \PortSample from worker tasks and times the sends itself; this process answers through FltLib.
/// <list type="bullet">
/// <item>flt_send_reply: FltSendMessage with a 64-byte message and an 8-byte reply, one at a time; this
/// process takes each with FilterGetMessage and answers with FilterReplyMessage (one thread, synchronous
/// calls). Reported per message, compared with the 64-byte IOCTL round trip.</item>
/// <item>flt_getmessage_iocp: messages without a reply, 16 sends in flight, taken by two threads from a
/// completion port with 16 overlapped FilterGetMessage calls outstanding (the scanner sample's shape).
/// Reported as messages per second.</item>
/// </list>
/// The driver is asked on a connection of its own, on the socket gate: a thread blocked in a call on a
/// connection reads every result of that connection and wakes the threads they belong to, so the long
/// IOCTL that runs the sends would put that wake-up in every FilterGetMessage and FilterReplyMessage;
/// and a second busy shared-memory connection would make the kernel advise one of the two to sleep
/// rather than spin (SubmissionPoller.Advise), a futex wake-up in every call.
/// </summary>
internal static unsafe class FltPortMeasurements
{
    private const int MessageBytes = 64;
    private const int ReplyBytes = 8;
    private const int BufferBytes = FilterPortLimits.HeaderSize + MessageBytes;

    public static BenchResult SendWithReply(BenchContext context) => KernelBridgeMeasurements.CountingKernelAllocation(context.Gate, () =>
    {
        using var scope = GateClient.Use(context.Gate);
        var port = Connect();
        var replier = new Thread(() => Reply(context.Gate, port)) { IsBackground = true, Name = "flt_send_reply replier" };
        replier.Start();
        try
        {
            using var driverGate = context.Connect(GateFeatures.None);
            using var sample = DeviceFile.Open(PortSampleInterface.Win32Name, gate: driverGate);
            const int batch = 200;
            var warmUpEnd = Stopwatch.GetTimestamp() + Ticks(context.Settings.WarmUp);
            long operations = 0;
            while (Stopwatch.GetTimestamp() < warmUpEnd) operations += Run(sample, batch, ReplyBytes, 1).Completed;
            var perMessage = new List<long>();
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            long timed = 0;
            var deadline = Stopwatch.GetTimestamp() + Ticks(context.Settings.Duration);
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var result = Run(sample, batch, ReplyBytes, 1);
                perMessage.Add(result.ElapsedNanoseconds / batch);
                timed += batch;
            }
            // The whole process's allocation (the replier's and the measuring thread's) per message.
            var clientBytes = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)Math.Max(1, timed);
            var timings = perMessage.ToArray();
            var (median, p99) = Percentiles.MedianAndP99(timings);
            return BenchResult.Latency(median, Math.Max(median, p99), timings.Length, batch) with
            {
                Operations = operations + timed,
                ClientBytesPerOperation = clientBytes,
            };
        }
        finally
        {
            Kernel32.CloseHandle(port);
            replier.Join(TimeSpan.FromSeconds(10));
        }
    });

    public static BenchResult GetMessageOnCompletionPort(BenchContext context) => KernelBridgeMeasurements.CountingKernelAllocation(context.Gate, () =>
    {
        const int outstanding = 16;
        const int threads = 2;
        using var scope = GateClient.Use(context.Gate);
        var port = Connect();
        var completion = Kernel32.CreateIoCompletionPort(port, 0, 1, threads);
        if (completion == 0) throw new BenchFailedException($"CreateIoCompletionPort on the port handle failed: {Kernel32.GetLastError()}");
        var slotBytes = sizeof(OVERLAPPED) + BufferBytes;
        var slots = (byte*)NativeMemory.AllocZeroed((nuint)(outstanding * slotBytes));
        var workers = new List<Thread>();
        try
        {
            for (var i = 0; i < outstanding; i++)
            {
                var overlapped = (OVERLAPPED*)(slots + i * slotBytes);
                var hr = FltLib.FilterGetMessage(port, (FILTER_MESSAGE_HEADER*)(overlapped + 1), BufferBytes, overlapped);
                if (hr != FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_IO_PENDING)) throw new BenchFailedException($"FilterGetMessage: 0x{hr:X8}");
            }
            for (var t = 0; t < threads; t++)
            {
                var worker = new Thread(() => Drain(context.Gate, port, completion)) { IsBackground = true, Name = "flt_getmessage_iocp worker" };
                worker.Start();
                workers.Add(worker);
            }
            using var driverGate = context.Connect(GateFeatures.None);
            using var sample = DeviceFile.Open(PortSampleInterface.Win32Name, gate: driverGate);
            const int batch = 5000;
            var warmUpEnd = Stopwatch.GetTimestamp() + Ticks(context.Settings.WarmUp);
            long operations = 0;
            while (Stopwatch.GetTimestamp() < warmUpEnd) operations += Run(sample, batch, -1, outstanding).Completed;
            long messages = 0;
            long nanoseconds = 0;
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var deadline = Stopwatch.GetTimestamp() + Ticks(context.Settings.Duration);
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var result = Run(sample, batch, -1, outstanding);
                messages += result.Completed;
                nanoseconds += result.ElapsedNanoseconds;
            }
            var clientBytes = (GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)Math.Max(1, messages);
            operations += messages;
            return BenchResult.Throughput(messages * 1e9 / nanoseconds, (int)Math.Min(int.MaxValue, messages)) with
            {
                Operations = operations,
                ClientBytesPerOperation = clientBytes,
            };
        }
        finally
        {
            for (var t = 0; t < threads; t++) Kernel32.PostQueuedCompletionStatus(completion, 0, 0, null);
            foreach (var worker in workers) worker.Join(TimeSpan.FromSeconds(10));
            Kernel32.CloseHandle(port);
            Kernel32.CloseHandle(completion);
            // The gets still pending end (cancelled) with the handle; their memory goes after that.
            Thread.Sleep(100);
            NativeMemory.Free(slots);
        }
    });

    private static nint Connect()
    {
        var hr = FltLib.FilterConnectCommunicationPort(PortSampleInterface.PortName, 0, default, 0, 0, out var port);
        if (hr != FltLib.S_OK)
            throw new BenchFailedException($"FilterConnectCommunicationPort({PortSampleInterface.PortName}) = 0x{hr:X8} (is another bench connected?)");
        return port;
    }

    private static PortSampleResult Run(DeviceFile sample, int count, int replyBytes, int inFlight)
    {
        var run = new PortSampleRun(count, MessageBytes, replyBytes, inFlight);
        var output = new byte[Marshal.SizeOf<PortSampleResult>()];
        sample.IoControl(PortSampleInterface.IOCTL_PORTSAMPLE_RUN, MemoryMarshal.AsBytes(new ReadOnlySpan<PortSampleRun>(ref run)), output);
        var result = MemoryMarshal.Read<PortSampleResult>(output);
        if (result.Failed > 0 || result.Completed != count)
            throw new BenchFailedException($"PortSample sent {result.Completed} of {count}; a send ended with {new NtStatus(result.LastFailure)}");
        return result;
    }

    /// <summary>The replier: FilterGetMessage, FilterReplyMessage, until the port closes. Its buffers are native and reused.</summary>
    private static void Reply(GateClient gate, nint port)
    {
        using var scope = GateClient.Use(gate);
        var message = (FILTER_MESSAGE_HEADER*)NativeMemory.AllocZeroed(BufferBytes);
        var reply = (FILTER_REPLY_HEADER*)NativeMemory.AllocZeroed((nuint)(FilterPortLimits.HeaderSize + ReplyBytes));
        try
        {
            while (FltLib.FilterGetMessage(port, message, BufferBytes, null) == FltLib.S_OK)
            {
                reply->MessageId = message->MessageId;
                if (FltLib.FilterReplyMessage(port, reply, FilterPortLimits.HeaderSize + ReplyBytes) != FltLib.S_OK) return;
            }
        }
        finally
        {
            NativeMemory.Free(message);
            NativeMemory.Free(reply);
        }
    }

    /// <summary>A completion-port thread: each message taken is followed by the next FilterGetMessage on the same slot.</summary>
    private static void Drain(GateClient gate, nint port, nint completion)
    {
        using var scope = GateClient.Use(gate);
        while (true)
        {
            uint bytes;
            nuint key;
            OVERLAPPED* overlapped;
            if (!Kernel32.GetQueuedCompletionStatus(completion, &bytes, &key, &overlapped, 30_000) || overlapped is null) return;
            var hr = FltLib.FilterGetMessage(port, (FILTER_MESSAGE_HEADER*)(overlapped + 1), BufferBytes, overlapped);
            if (hr != FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_IO_PENDING) && hr != FltLib.S_OK) return;
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}
