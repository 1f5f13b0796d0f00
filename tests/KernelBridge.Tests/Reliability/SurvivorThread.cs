using System.Collections.Concurrent;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Echo;

namespace KernelBridge.Tests.Reliability;

/// <summary>
/// A client that must not notice the killing around it: a thread of the test process doing
/// IOCTLs, waits, mapped views and cross-thread SendMessage on its own connection until disposed,
/// keeping every failure.
/// </summary>
internal sealed class SurvivorThread : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stop;

    public SurvivorThread(GateClient gate, nint window)
    {
        _thread = new Thread(() => Run(gate, window)) { IsBackground = true, Name = "kill loop survivor" };
        _thread.Start();
    }

    public long Operations { get; private set; }
    public ConcurrentQueue<string> Failures { get; } = new();

    private void Run(GateClient gate, nint window)
    {
        using var scope = GateClient.Use(gate);
        try
        {
            using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
            using var signal = KernelEvent.Create(manualReset: false, gate: gate);
            var output = new byte[64];
            while (!_stop)
            {
                var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, "survivor"u8, output);
                if (!result.Status.IsSuccess) Failures.Enqueue($"echo: {result.Status}");
                signal.Set();
                if (!signal.Wait(TimeSpan.FromSeconds(5))) Failures.Enqueue("a set event was not signalled");
                using (var section = Section.Create(4096, gate: gate))
                using (var view = section.MapView())
                {
                    view.Write(0, Operations);
                    if (view.Read<long>(0) != Operations) Failures.Enqueue("a view lost what was written");
                }
                if (MessageWindow.Send(window, User32.WM_USER + 1, 2, 3, TimeSpan.FromSeconds(10)) != 5) Failures.Enqueue("the window answered wrong");
                Operations++;
                Thread.Sleep(2);
            }
        }
        catch (Exception e)
        {
            Failures.Enqueue($"{e.GetType().Name}: {e.Message}");
        }
    }

    public void Dispose()
    {
        _stop = true;
        Assert.True(_thread.Join(TimeSpan.FromSeconds(30)), "the survivor thread did not stop");
    }
}
