using System.Diagnostics;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;
using KernelBridge.Drivers.EventSample;
using KernelBridge.Drivers.PortSample;
using KernelBridge.Drivers.Telemetry;

namespace KernelBridge.Cli.Stress;

/// <summary>
/// One thread of a stress worker: picks operations at random (<see cref="StressMix"/>) until its
/// deadline, timing each into its own histogram and counting it in the worker's
/// <see cref="StressTally"/>. An operation that fails or answers wrongly is an error, with its reason.
/// </summary>
internal sealed class StressThread(GateClient gate, StressTally tally, Func<nint> windowTarget, int seed)
{
    public const uint WindowMessage = User32.WM_USER + 1;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private const int ChannelRecords = 4;
    private const int RecordBytes = 64;
    private const int SectionBytes = 64 * 1024;

    private readonly Random _random = new(seed);
    private readonly byte[] _input = new byte[RecordBytes];
    private readonly byte[] _output = new byte[RecordBytes * 2];

    public LatencyHistogram Latency { get; } = new();

    public void Run(long deadline)
    {
        using var scope = GateClient.Use(gate);
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
        using var events = DeviceFile.Open(EventSampleInterface.Win32Name, gate: gate);
        using var sample = DeviceFile.Open(PortSampleInterface.Win32Name, gate: gate);
        using var signal = KernelEvent.Create(manualReset: false, gate: gate);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var operation = StressMix.Pick(_random);
            var start = Stopwatch.GetTimestamp();
            string? error;
            try
            {
                error = operation switch
                {
                    StressOperation.Ioctl => Ioctl(echo),
                    StressOperation.PendingIoctl => PendingIoctl(events),
                    StressOperation.Wait => Wait(signal),
                    StressOperation.Section => SectionRoundTrip(),
                    StressOperation.Channel => ChannelRoundTrip(),
                    StressOperation.Port => PortRoundTrip(sample),
                    StressOperation.Window => WindowRoundTrip(),
                    _ => $"unknown operation {operation}",
                };
            }
            catch (Exception e) when (e is NtStatusException or System.ComponentModel.Win32Exception or TimeoutException or InvalidOperationException
                or KernelUnavailableException or IOException)
            {
                error = $"{e.GetType().Name}: {e.Message}";
            }
            Latency.Record((long)Stopwatch.GetElapsedTime(start).TotalNanoseconds);
            if (error == Busy) tally.Busy(operation);
            else tally.Done(operation, error);
        }
    }

    /// <summary>What <see cref="PortRoundTrip"/> says when another process holds the one connection \PortSample takes (not an error).</summary>
    private const string Busy = "busy";

    private string? Ioctl(DeviceFile echo)
    {
        _random.NextBytes(_input);
        var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, _input, _output);
        if (!result.Status.IsSuccess) return $"echo IOCTL: {result.Status}";
        // Echo answers prefix + input: the input must be the tail of what came back.
        if (result.Information < _input.Length || !_output.AsSpan(result.Information - _input.Length, _input.Length).SequenceEqual(_input))
            return $"echo IOCTL returned {result.Information} bytes that do not end with the input";
        return null;
    }

    private static string? PendingIoctl(DeviceFile events)
    {
        var request = new RegisterEvent(NotifyType.IrpBased, 0, EventSampleInterface.RelativeDueTime(TimeSpan.FromMilliseconds(1)));
        var result = events.IoControl(EventSampleInterface.IOCTL_REGISTER_EVENT, MemoryMarshal.AsBytes(new ReadOnlySpan<RegisterEvent>(ref request)), default);
        return result.Status.IsSuccess ? null : $"pended IOCTL: {result.Status}";
    }

    private static string? Wait(KernelEvent signal)
    {
        signal.Set();
        if (!signal.Wait(TimeSpan.Zero)) return "a set auto-reset event was not signalled";
        if (signal.Wait(TimeSpan.FromMilliseconds(1))) return "an auto-reset event stayed signalled after a satisfied wait";
        return null;
    }

    private string? SectionRoundTrip()
    {
        using var section = Section.Create(SectionBytes, gate: gate);
        using var view = section.MapView();
        var stamp = _random.NextInt64();
        view.Write(0, stamp);
        view.Write(SectionBytes - sizeof(long), ~stamp);
        if (view.Read<long>(0) != stamp || view.Read<long>(SectionBytes - sizeof(long)) != ~stamp) return "a section view did not read back what was written";
        return null;
    }

    private string? ChannelRoundTrip()
    {
        using var telemetry = DeviceFile.Open(TelemetryInterface.Win32Name, gate: gate);
        var start = new TelemetryStart(RecordBytes, 4096, -1, ChannelOverflowPolicy.Block, 0);
        var location = new byte[Marshal.SizeOf<TelemetryChannel>()];
        var result = telemetry.IoControl(TelemetryInterface.IOCTL_TELEMETRY_START, MemoryMarshal.AsBytes(new ReadOnlySpan<TelemetryStart>(ref start)), location);
        if (!result.Status.IsSuccess) return $"telemetry start: {result.Status}";
        var channel = SharedChannel.Attach((nint)MemoryMarshal.Read<TelemetryChannel>(location).Address, gate);
        for (var i = 0; i < ChannelRecords; i++)
        {
            _input.AsSpan().Fill((byte)(i + 1));
            var status = channel.Sender.Send(_input, Patience);
            if (status != RingStatus.Ok) return $"channel send: {status}";
        }
        for (var i = 0; i < ChannelRecords; i++)
        {
            var status = channel.Receiver.Receive(out var record, Patience);
            if (status != RingStatus.Ok) return $"channel receive: {status}";
            var good = record.Length == RecordBytes && record[0] == (byte)(i + 1) && record[^1] == (byte)(i + 1);
            channel.Receiver.Release();
            if (!good) return $"channel echo {i} came back wrong";
        }
        result = telemetry.IoControl(TelemetryInterface.IOCTL_TELEMETRY_STOP, default, _output);
        return result.Status.IsSuccess ? null : $"telemetry stop: {result.Status}";
    }

    private static unsafe string? PortRoundTrip(DeviceFile sample)
    {
        const int messages = 4, messageBytes = 64, replyBytes = 8;
        var hr = FltLib.FilterConnectCommunicationPort(PortSampleInterface.PortName, 0, default, 0, 0, out var port);
        if (hr == FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_CONNECTION_COUNT_LIMIT)) return Busy;
        if (hr != FltLib.S_OK) return $"FilterConnectCommunicationPort: 0x{hr:X8}";
        var gate = GateClient.Current;
        var replied = 0;
        var replier = new Thread(() =>
        {
            using var scope = GateClient.Use(gate);
            var message = new byte[FilterPortLimits.HeaderSize + messageBytes];
            var reply = new byte[FilterPortLimits.HeaderSize + replyBytes];
            while (replied < messages && FltLib.FilterGetMessage(port, message) == FltLib.S_OK)
            {
                fixed (byte* m = message)
                fixed (byte* r = reply)
                {
                    ((FILTER_REPLY_HEADER*)r)->MessageId = ((FILTER_MESSAGE_HEADER*)m)->MessageId;
                    if (FltLib.FilterReplyMessage(port, (FILTER_REPLY_HEADER*)r, (uint)reply.Length) != FltLib.S_OK) return;
                }
                replied++;
            }
        }) { IsBackground = true, Name = "stress port replier" };
        replier.Start();
        string? error;
        try
        {
            var run = new PortSampleRun(messages, messageBytes, replyBytes, 1);
            var output = new byte[Marshal.SizeOf<PortSampleResult>()];
            var status = sample.IoControl(PortSampleInterface.IOCTL_PORTSAMPLE_RUN, MemoryMarshal.AsBytes(new ReadOnlySpan<PortSampleRun>(ref run)), output).Status;
            var result = MemoryMarshal.Read<PortSampleResult>(output);
            error = !status.IsSuccess ? $"IOCTL_PORTSAMPLE_RUN: {status}"
                : result.Completed != messages || result.Failed != 0
                    ? $"PortSample delivered {result.Completed} of {messages} messages; a send ended with {new NtStatus(result.LastFailure)}"
                    : null;
        }
        finally
        {
            Kernel32.CloseHandle(port);
        }
        return replier.Join(Patience) ? error : "the port replier did not end after its connection closed";
    }

    private string? WindowRoundTrip()
    {
        var target = windowTarget();
        var (a, b) = (_random.Next(1 << 20), _random.Next(1 << 20));
        var answer = MessageWindow.Send(target, WindowMessage, a, b, Patience);
        return answer == a + b ? null : $"the window answered {answer} to {a} + {b}";
    }
}
