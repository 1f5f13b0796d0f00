using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using KernelBridge.Abi.Protocol;
using KernelBridge.Cli.Commands;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Drivers.Echo;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// `kbridge bench-peer MODE` (hidden): the other process of a two-process measurement, started by
/// `kbridge bench` (<see cref="BenchPeer"/>). It prints "ready" once set up, and exits when its
/// standard input closes, so it never outlives the bench that started it.
/// <list type="bullet">
/// <item>socket PATH: connects to PATH and echoes 64-byte messages;</item>
/// <item>shm WAY PATH: maps the bench's ping-pong page at PATH and echoes its 64-byte messages, polling or on futexes (<see cref="SharedPingPong"/>);</item>
/// <item>events PING PONG: waits on the named event PING and sets PONG, over and over;</item>
/// <item>hammer: on "go START END" (Stopwatch timestamps), sends Echo IOCTLs back to back from START to END, then prints "count N";</item>
/// <item>idle: holds a connection and an open handle, and does nothing.</item>
/// <item>ring-stream KIND BYTES PATH: maps the bench's ring or channel at PATH and produces BYTES-long records into it flat out (<see cref="RingStreamProducer"/>).</item>
/// </list>
/// The modes that call the kernel use the shared-memory gate, whatever KERNELBRIDGE_GATE says, as the bench's own connection does.
/// </summary>
internal static class BenchPeerCommand
{
    public const string Name = "bench-peer";
    public const string Go = "go";
    public const string Count = "count";
    public const string SharedMemoryMode = "shm";
    public const string RingStreamMode = "ring-stream";

    /// <summary>A shared-memory peer that hears nothing for this long takes the bench for gone.</summary>
    private static readonly TimeSpan SharedMemoryIdleLimit = TimeSpan.FromSeconds(60);

    public static Command Create()
    {
        var command = new Command(Name, "The second process of a `kbridge bench` measurement") { Hidden = true };
        var path = new Argument<string>("PATH");
        var socket = new Command("socket") { path };
        socket.SetAction(parse => Run(() => SocketEcho(parse.GetValue(path)!)));
        var way = new Argument<PingPongWay>("WAY");
        var area = new Argument<string>("PATH");
        var sharedMemory = new Command(SharedMemoryMode) { way, area };
        sharedMemory.SetAction(parse => Run(() => SharedMemoryEcho(parse.GetValue(way), parse.GetValue(area)!)));
        var ping = new Argument<string>("PING");
        var pong = new Argument<string>("PONG");
        var events = new Command("events") { ping, pong };
        events.SetAction(parse => Run(() => EventEcho(parse, parse.GetValue(ping)!, parse.GetValue(pong)!)));
        var hammer = new Command("hammer");
        hammer.SetAction(parse => Run(() => Hammer(parse)));
        var idle = new Command("idle");
        idle.SetAction(parse => Run(() => Idle(parse)));
        command.Subcommands.Add(socket);
        command.Subcommands.Add(sharedMemory);
        command.Subcommands.Add(events);
        command.Subcommands.Add(hammer);
        command.Subcommands.Add(idle);
        var (streamKind, streamBytes, streamPath) = (new Argument<RingStreamKind>("KIND"), new Argument<int>("BYTES"), new Argument<string>("PATH"));
        var ringStream = new Command(RingStreamMode) { streamKind, streamBytes, streamPath };
        ringStream.SetAction(parse => Run(() => RingStream(parse.GetValue(streamKind), parse.GetValue(streamBytes), parse.GetValue(streamPath)!)));
        command.Subcommands.Add(ringStream);
        foreach (var user32 in Win32kMeasurements.PeerCommands()) command.Subcommands.Add(user32);
        return command;
    }

    private static int Run(Action body) => CommonOptions.Guard(() =>
    {
        body();
        return 0;
    });

    private static void SocketEcho(string path)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        ExitWhenStdinCloses();
        SayReady();
        var buffer = new byte[BaselineMeasurements.PingPongBytes];
        try
        {
            while (true)
            {
                var got = 0;
                while (got < buffer.Length)
                {
                    var n = socket.Receive(buffer.AsSpan(got));
                    if (n == 0) return;
                    got += n;
                }
                socket.Send(buffer);
            }
        }
        catch (SocketException)
        {
            // The bench closed its end.
        }
    }

    /// <summary>One spinning (or sleeping) thread, this one; every wait bounded, and the stdin watcher ends the process when the bench goes.</summary>
    private static void SharedMemoryEcho(PingPongWay way, string path)
    {
        using var area = SharedPingPong.Open(path);
        ExitWhenStdinCloses();
        SayReady();
        while (area.Answer(way, SharedMemoryIdleLimit))
        {
        }
    }

    /// <summary>One producing thread, this one, until the bench kills it (or stops taking records for the idle limit).</summary>
    private static void RingStream(RingStreamKind kind, int bytes, string path)
    {
        using var region = RingStreamRegion.Open(kind, bytes, path);
        var producer = RingStreamProducer.Attach(region);
        ExitWhenStdinCloses();
        SayReady();
        producer.Run(SharedMemoryIdleLimit);
    }

    private static void EventEcho(ParseResult parse, string pingName, string pongName)
    {
        using var gate = BenchGate.Connect(CommonOptions.InstanceName(parse), autoStart: false, GateFeatures.SharedMemory);
        using var ping = KernelEvent.Open(pingName, gate: gate);
        using var pong = KernelEvent.Open(pongName, gate: gate);
        ExitWhenStdinCloses();
        SayReady();
        while (true)
        {
            ping.Wait();
            pong.Set();
        }
    }

    private static void Hammer(ParseResult parse)
    {
        using var gate = BenchGate.Connect(CommonOptions.InstanceName(parse), autoStart: false, GateFeatures.SharedMemory);
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
        var input = new byte[KernelBridgeMeasurements.IoctlBytes];
        var output = new byte[KernelBridgeMeasurements.IoctlBytes];
        for (var i = 0; i < 100; i++) echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, input, output); // JIT and first-call costs out of the count
        SayReady();
        // "go START END": Stopwatch timestamps (CLOCK_MONOTONIC, the same in every process), so every client hammers in the same window.
        var go = Console.In.ReadLine()?.Split(' ');
        if (go is not [Go, var startText, var endText]) return;
        var (start, end) = (long.Parse(startText, CultureInfo.InvariantCulture), long.Parse(endText, CultureInfo.InvariantCulture));
        if (Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), start) is { Ticks: > 0 } wait) Thread.Sleep(wait);
        long count = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, input, output);
            count++;
        }
        Console.Out.WriteLine($"{Count} {count.ToString(CultureInfo.InvariantCulture)}");
        Console.Out.Flush();
        Console.In.ReadLine();
    }

    private static void Idle(ParseResult parse)
    {
        using var gate = BenchGate.Connect(CommonOptions.InstanceName(parse), autoStart: false, GateFeatures.SharedMemory);
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
        SayReady();
        while (Console.In.ReadLine() is not null)
        {
        }
    }

    private static void SayReady()
    {
        Console.Out.WriteLine(BenchPeer.Ready);
        Console.Out.Flush();
    }

    /// <summary>For a peer whose main thread blocks elsewhere: when the bench goes, so does it.</summary>
    private static void ExitWhenStdinCloses()
    {
        var watcher = new Thread(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }
            Environment.Exit(0);
        }) { IsBackground = true, Name = "bench-peer stdin" };
        watcher.Start();
    }
}
