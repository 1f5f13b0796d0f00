using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;
using KernelBridge.Drivers.EventSample;
using KernelBridge.Drivers.Telemetry;
using KernelBridge.TestDriver;

namespace KernelBridge.TestClient;

/// <summary>
/// test-client victim INSTANCE PARKDEVICE PORTNAME HWND STATEFILE SEED [survivor]
/// A client made to be killed at a random point: it connects, opens what it needs, prints "ready",
/// then does random operations of every kind in a loop (<see cref="VictimOperation"/>), writing the
/// one it is in to byte 0 of STATEFILE (so the killer can tell where it struck). An operation that
/// goes wrong prints "error OPERATION DETAIL" (a victim stopped and continued must never print one).
/// A survivor is never killed: when its standard input closes it prints "survived N" and exits.
/// A victim never outlives two minutes, a survivor thirty.
/// </summary>
internal static unsafe class VictimMode
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static int Run(string[] args)
    {
        if (args.Length < 6) return Usage();
        var survivor = args.Length > 6 && args[6] == "survivor";
        // A survivor lives as long as the kill loop (1,000 kills take minutes); it also ends when its stdin closes.
        using var watchdog = new Timer(_ => Environment.Exit(0), null, TimeSpan.FromMinutes(survivor ? 30 : 2), Timeout.InfiniteTimeSpan);
        using var gate = GateClient.Connect(args[0], autoStart: false);
        using var scope = GateClient.Use(gate);
        using var state = MemoryMappedFile.CreateFromFile(args[4], System.IO.FileMode.OpenOrCreate, null, 4096);
        using var stateView = state.CreateViewAccessor(0, 4096);
        var victim = new Victim(gate, args[1], args[2], nint.Parse(args[3], CultureInfo.InvariantCulture),
            new Random(int.Parse(args[5], CultureInfo.InvariantCulture)), operation => stateView.Write(0, (byte)operation));
        var started = System.Diagnostics.Stopwatch.StartNew();
        victim.Connect();
        Console.WriteLine($"ready (set up in {started.ElapsedMilliseconds} ms, {victim.PortWait.TotalMilliseconds:0} ms of it waiting for the port)");
        var stop = false;
        if (survivor)
            new Thread(() =>
            {
                while (Console.In.ReadLine() is not null)
                {
                }
                Volatile.Write(ref stop, true);
            }) { IsBackground = true }.Start();
        long done = 0;
        while (!Volatile.Read(ref stop))
        {
            victim.Step();
            done++;
        }
        Console.WriteLine($"survived {done}");
        return 0;
    }

    private sealed class Victim(GateClient gate, string parkDevice, string portName, nint window, Random random, Action<VictimOperation> mark)
    {
        private readonly byte[] _buffer = new byte[128];
        private DeviceFile? _echo;
        private DeviceFile? _park;
        private DeviceFile? _timer;
        private DeviceFile? _ports;
        private KernelEvent? _event;
        private nint _port;

        public TimeSpan PortWait { get; private set; }

        public void Connect()
        {
            _echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
            _park = DeviceFile.OpenOverlapped(parkDevice, gate: gate);
            _timer = DeviceFile.Open(EventSampleInterface.Win32Name, gate: gate);
            _ports = DeviceFile.OpenOverlapped(KbTestInterface.Win32(KbTestInterface.ServiceName) + @"\ports", gate: gate);
            _event = KernelEvent.Create(manualReset: false, gate: gate);
            // The port takes one connection: the victim before this one may still be running down.
            var deadline = DateTime.UtcNow + Patience;
            var waiting = System.Diagnostics.Stopwatch.StartNew();
            int hr;
            while ((hr = FltLib.FilterConnectCommunicationPort(portName, 0, default, 0, 0, out _port)) != FltLib.S_OK && DateTime.UtcNow < deadline)
                Thread.Sleep(5);
            PortWait = waiting.Elapsed;
            if (hr != FltLib.S_OK) throw new InvalidOperationException($"FilterConnectCommunicationPort({portName}) = 0x{hr:X8}");
        }

        public void Step()
        {
            var operation = (VictimOperation)random.Next(1, 9);
            mark(operation);
            string? error;
            try
            {
                error = operation switch
                {
                    VictimOperation.SyncIoctl => SyncIoctl(),
                    VictimOperation.PendingIoctl => PendingIoctl(),
                    VictimOperation.TimerIoctl => TimerIoctl(),
                    VictimOperation.Wait => Wait(),
                    VictimOperation.MappedView => MappedView(),
                    VictimOperation.RingProducer => RingProducer(),
                    VictimOperation.PortReply => PortReply(),
                    VictimOperation.SendMessage => SendMessage(),
                    _ => null,
                };
            }
            catch (Exception e) when (e is NtStatusException or System.ComponentModel.Win32Exception or TimeoutException or InvalidOperationException)
            {
                error = $"{e.GetType().Name}: {e.Message}";
            }
            if (error is not null) Console.WriteLine($"error {operation} {error}");
        }

        private string? SyncIoctl()
        {
            var result = _echo!.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, _buffer.AsSpan(0, 32), _buffer.AsSpan(32));
            return result.Status.IsSuccess ? null : $"{result.Status}";
        }

        /// <summary>Parks an IOCTL in the test driver and cancels it a few milliseconds later (or is killed meanwhile).</summary>
        private string? PendingIoctl()
        {
            var request = new ReturnRequest(0, 0, 0, PendMode.Park, 0, 0, 0);
            using var cancel = new CancellationTokenSource();
            var input = MemoryMarshal.AsBytes(new ReadOnlySpan<ReturnRequest>(ref request)).ToArray();
            var task = _park!.IoControlAsync(KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED, input, new byte[16], cancel.Token).AsTask();
            Thread.Sleep(random.Next(0, 10));
            cancel.Cancel();
            try
            {
                if (!task.Wait(Patience)) return "a cancelled parked IOCTL did not end";
                return $"a parked IOCTL completed with {task.Result.Status} before it was cancelled";
            }
            catch (AggregateException e) when (e.InnerException is NtStatusException { Status: var status })
            {
                return status == NtStatus.STATUS_CANCELLED ? null : $"a cancelled parked IOCTL ended with {status}";
            }
            catch (AggregateException e) when (e.InnerException is OperationCanceledException)
            {
                return null;
            }
        }

        /// <summary>An inverted call: pends in Event_Sample until its 1-10 ms timer fires.</summary>
        private string? TimerIoctl()
        {
            var request = new RegisterEvent(NotifyType.IrpBased, 0, EventSampleInterface.RelativeDueTime(TimeSpan.FromMilliseconds(random.Next(1, 10))));
            var result = _timer!.IoControl(EventSampleInterface.IOCTL_REGISTER_EVENT, MemoryMarshal.AsBytes(new ReadOnlySpan<RegisterEvent>(ref request)), default);
            return result.Status.IsSuccess ? null : $"{result.Status}";
        }

        private string? Wait()
        {
            if (_event!.Wait(TimeSpan.FromMilliseconds(random.Next(1, 10)))) return "an unsignalled event satisfied a wait";
            _event.Set();
            return _event.Wait(TimeSpan.Zero) ? null : "a set event did not satisfy a wait";
        }

        private string? MappedView()
        {
            using var section = Section.Create(64 * 1024, gate: gate);
            using var view = section.MapView();
            var stamp = random.NextInt64();
            view.Write(0, stamp);
            Thread.Sleep(random.Next(0, 5));
            return view.Read<long>(0) == stamp ? null : "a view did not keep what was written";
        }

        /// <summary>A Telemetry echo channel: records sent up, one left reserved half-written for a moment, echoes received.</summary>
        private string? RingProducer()
        {
            using var telemetry = DeviceFile.Open(TelemetryInterface.Win32Name, gate: gate);
            var start = new TelemetryStart(64, 4096, -1, ChannelOverflowPolicy.Block, 0);
            var location = new byte[Marshal.SizeOf<TelemetryChannel>()];
            var result = telemetry.IoControl(TelemetryInterface.IOCTL_TELEMETRY_START, MemoryMarshal.AsBytes(new ReadOnlySpan<TelemetryStart>(ref start)), location);
            if (!result.Status.IsSuccess) return $"start: {result.Status}";
            var channel = SharedChannel.Attach((nint)MemoryMarshal.Read<TelemetryChannel>(location).Address, gate);
            var records = random.Next(1, 8);
            for (var i = 0; i < records; i++)
            {
                var status = channel.Sender.Reserve(64, Patience, out var reservation);
                if (status != RingStatus.Ok) return $"reserve: {status}";
                reservation.Payload.Fill((byte)i);
                if (i == records - 1) Thread.Sleep(random.Next(0, 3));
                reservation.Commit();
            }
            for (var i = 0; i < records; i++)
            {
                var status = channel.Receiver.Receive(out var record, Patience);
                if (status != RingStatus.Ok) return $"receive: {status}";
                var good = record.Length == 64 && record[0] == (byte)i;
                channel.Receiver.Release();
                if (!good) return $"echo {i} came back wrong";
            }
            return null;
        }

        /// <summary>Has the test driver send this connection a message awaiting a reply, takes it, and replies after a moment (or is killed meanwhile).</summary>
        private string? PortReply()
        {
            var request = new PortSendRequest(1, 16, 8, 1, -TimeSpan.FromSeconds(30).Ticks, PortSendMode.Async, 0);
            var input = new byte[Marshal.SizeOf<PortSendRequest>() + portName.Length * 2];
            MemoryMarshal.Write(input, in request);
            System.Text.Encoding.Unicode.GetBytes(portName, input.AsSpan(Marshal.SizeOf<PortSendRequest>()));
            var outcome = new byte[Marshal.SizeOf<PortSendOutcome>()];
            var send = _ports!.IoControlAsync(KbTestPortsInterface.IOCTL_KBTEST_PORT_SEND, input, outcome).AsTask();
            var message = new byte[FilterPortLimits.HeaderSize + 16];
            var hr = FltLib.FilterGetMessage(_port, message);
            if (hr != FltLib.S_OK) return $"FilterGetMessage: 0x{hr:X8}";
            Thread.Sleep(random.Next(0, 5));
            var reply = new byte[FilterPortLimits.HeaderSize + 8];
            var header = new FILTER_REPLY_HEADER { Status = 0, MessageId = MemoryMarshal.Read<FILTER_MESSAGE_HEADER>(message).MessageId };
            MemoryMarshal.Write(reply, in header);
            hr = FltLib.FilterReplyMessage(_port, reply);
            if (hr != FltLib.S_OK) return $"FilterReplyMessage: 0x{hr:X8}";
            if (!send.Wait(Patience)) return "the driver's send did not end after the reply";
            var sent = MemoryMarshal.Read<PortSendOutcome>(outcome);
            return sent.Status == 0 ? null : $"the driver's send ended with {new NtStatus(sent.Status)}";
        }

        private string? SendMessage()
        {
            var (a, b) = (random.Next(1 << 20), random.Next(1 << 20));
            var answer = MessageWindow.Send(window, User32.WM_USER + 1, a, b, Patience);
            return answer == a + b ? null : $"the window answered {answer} to {a} + {b}";
        }
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: test-client victim INSTANCE PARKDEVICE PORTNAME HWND STATEFILE SEED [survivor]");
        return 2;
    }
}
