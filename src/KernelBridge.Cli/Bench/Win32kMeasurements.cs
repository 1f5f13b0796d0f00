using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using KernelBridge.Abi.Protocol;
using KernelBridge.Cli.Commands;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// The message mechanism between two processes: SendMessage's round trip to a message-only window
/// of a peer process (compared with the IOCTL round trip), and PostThreadMessage to GetMessage, one
/// way, in messages per second. The peer roles are `kbridge bench-peer user32-window NAME` and
/// `user32-poster THREAD`.
/// </summary>
internal static class Win32kMeasurements
{
    private const string PeerClass = "KbBenchPeerWindow";
    private const uint Ping = User32.WM_USER + 1;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>SendMessage(WM_USER + 1, n) to the peer's window, which answers n + 1.</summary>
    public static BenchResult CrossProcessSendMessage(BenchContext context) => KernelBridgeMeasurements.CountingKernelAllocation(context.Gate, () =>
    {
        var name = BenchContext.UniqueName("window");
        using var peer = context.StartPeer("user32-window", name);
        var hwnd = User32.FindWindowEx(User32.HWND_MESSAGE, 0, PeerClass, name);
        if (hwnd == 0) throw new BenchFailedException($"the peer's window '{name}' was not found (error {Kernel32.GetLastError()})");
        nint n = 0;
        return LatencySampler.Measure(context.Settings, () =>
        {
            if (User32.SendMessage(hwnd, Ping, n, 0) != n + 1) throw new BenchFailedException($"SendMessage got a wrong answer (error {Kernel32.GetLastError()})");
            n++;
        });
    });

    /// <summary>The peer posts to this thread flat out (waiting while the queue holds 10,000); this thread takes them with PeekMessage.</summary>
    public static BenchResult CrossProcessPostMessage(BenchContext context) => KernelBridgeMeasurements.CountingKernelAllocation(context.Gate, () =>
    {
        User32.PeekMessage(out _, 0, 0, 0, User32.PM_NOREMOVE);
        var threadId = Kernel32.GetCurrentThreadId();
        long count;
        long warm;
        TimeSpan elapsed;
        using (var peer = context.StartPeer("user32-poster", threadId.ToString(CultureInfo.InvariantCulture)))
        {
            warm = Receive(context.Settings.WarmUp);
            var clock = Stopwatch.StartNew();
            count = Receive(context.Settings.Duration);
            elapsed = clock.Elapsed;
        }
        // What the peer posted after the count is not left behind in this thread's queue.
        while (User32.PeekMessage(out _, 0, 0, 0, User32.PM_REMOVE))
        {
        }
        return BenchResult.Throughput(count / elapsed.TotalSeconds, (int)Math.Min(int.MaxValue, count)) with { Operations = warm + count };
    });

    private static unsafe long Receive(TimeSpan span)
    {
        var end = Stopwatch.GetTimestamp() + (long)(span.TotalSeconds * Stopwatch.Frequency);
        long count = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            if (User32.PeekMessage(out var msg, 0, 0, 0, User32.PM_REMOVE))
            {
                if (msg.message == Ping) count++;
                continue;
            }
            if (User32.MsgWaitForMultipleObjectsEx(0, null, (uint)Patience.TotalMilliseconds, User32.QS_POSTMESSAGE, User32.MWMO_INPUTAVAILABLE) != 0)
                throw new BenchFailedException("the poster peer stopped posting");
        }
        return count;
    }

    /// <summary>The peer roles, as `bench-peer` subcommands.</summary>
    public static IEnumerable<Command> PeerCommands()
    {
        var name = new Argument<string>("NAME");
        var window = new Command("user32-window") { name };
        window.SetAction(parse => CommonOptions.Guard(() => WindowPeer(parse, parse.GetValue(name)!)));
        var thread = new Argument<uint>("THREAD");
        var poster = new Command("user32-poster") { thread };
        poster.SetAction(parse => CommonOptions.Guard(() => PosterPeer(parse, parse.GetValue(thread))));
        return [window, poster];
    }

    private static int WindowPeer(ParseResult parse, string name)
    {
        using var gate = BenchGate.Connect(CommonOptions.InstanceName(parse), autoStart: false, GateFeatures.SharedMemory);
        using var scope = GateClient.Use(gate);
        if (User32.RegisterClassEx(new WNDCLASSEX { cbSize = WNDCLASSEX.Size, lpfnWndProc = Answer, lpszClassName = PeerClass }) == 0
            || User32.CreateWindowEx(0, PeerClass, name, 0, 0, 0, 0, 0, User32.HWND_MESSAGE, 0, 0, 0) == 0)
            throw new BenchFailedException($"the window peer could not make its window (error {Kernel32.GetLastError()})");
        ExitWhenStdinCloses();
        Console.Out.WriteLine(BenchPeer.Ready);
        Console.Out.Flush();
        while (User32.GetMessage(out var msg, 0, 0, 0) > 0) User32.DispatchMessage(msg);
        return 0;
    }

    private static nint Answer(nint hwnd, uint msg, nint wParam, nint lParam) => msg == Ping ? wParam + 1 : User32.DefWindowProc(hwnd, msg, wParam, lParam);

    private static int PosterPeer(ParseResult parse, uint threadId)
    {
        using var gate = BenchGate.Connect(CommonOptions.InstanceName(parse), autoStart: false, GateFeatures.SharedMemory);
        using var scope = GateClient.Use(gate);
        ExitWhenStdinCloses();
        Console.Out.WriteLine(BenchPeer.Ready);
        Console.Out.Flush();
        while (true)
        {
            if (User32.PostThreadMessage(threadId, Ping, 0, 0)) continue;
            // A full queue (ERROR_NOT_ENOUGH_QUOTA) waits for the reader; anything else ends the peer.
            if (Kernel32.GetLastError() != (uint)Abi.Win32Error.ERROR_NOT_ENOUGH_QUOTA) return 1;
            Thread.Sleep(1);
        }
    }

    /// <summary>When the bench goes (its end of our stdin closes), so does the peer.</summary>
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
