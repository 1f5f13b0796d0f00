using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Drivers.Echo;

namespace KernelBridge.Cli.Fuzz;

/// <summary>
/// The normal client that keeps checking it is served while the fuzzers work: an event set and
/// waited for (it must be signaled at once), an IOCTL to \Device\Echo (the answer must be its
/// question), and now and then the kernel's state (the same kernel pid). Every call that does not
/// give the expected answer is a checker error. Its objects are its own, closed when it stops.
/// </summary>
internal sealed unsafe class ServiceChecker(GateClient gate, int kernelPid, FuzzCounters counters)
{
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(2);

    public void Run(CancellationToken stop)
    {
        using var scope = GateClient.Use(gate);
        nint ev = 0;
        DeviceFile? echo = null;
        try
        {
            var status = Ntdll.NtCreateEvent(&ev, AccessMask.EVENT_ALL_ACCESS, new ObjectAttributes(null), EventType.SynchronizationEvent, false);
            if (!Check(status == NtStatus.STATUS_SUCCESS, $"NtCreateEvent: {status}")) return;
            echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
            var question = new byte[16];
            var answer = new byte[16];
            for (long round = 0; !stop.IsCancellationRequested; round++)
            {
                status = Ntdll.NtSetEvent(ev, null);
                Check(status == NtStatus.STATUS_SUCCESS, $"NtSetEvent: {status}");
                var timeout = -10_000_000L;
                status = Ntdll.NtWaitForSingleObject(ev, false, &timeout);
                Check(status == NtStatus.STATUS_SUCCESS, $"NtWaitForSingleObject on a set event: {status}");
                BitConverter.TryWriteBytes(question, round);
                var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, question, answer);
                Check(result.Status == NtStatus.STATUS_SUCCESS && result.Information == question.Length && question.AsSpan().SequenceEqual(answer),
                    $"IOCTL_ECHO_BUFFERED: {result.Status}, {result.Information} bytes");
                if (round % 64 == 0)
                {
                    var pid = KernelControl.QueryState(gate).KernelProcessId;
                    Check(pid == kernelPid, $"KbQueryKernelState: served by kernel pid {pid}, not {kernelPid}");
                }
                stop.WaitHandle.WaitOne(Pace);
            }
        }
        catch (Exception e) when (e is KernelUnavailableException or NtStatusException or IOException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            // The connection itself failed: the kernel went, or hung up on a well-behaved client.
            counters.CheckerFailed($"{e.GetType().Name}: {e.Message}");
        }
        finally
        {
            echo?.Dispose();
            if (ev != 0) Ntdll.NtClose(ev);
        }
    }

    private bool Check(bool ok, string what)
    {
        Interlocked.Increment(ref counters.CheckerCalls);
        if (!ok) counters.CheckerFailed(what);
        return ok;
    }
}
