using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Drivers.Echo;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// KernelBridge's system calls, each measured through the real kernel process: the null call, the
/// 64-byte IOCTL (on each gate), a wait that is already satisfied and an event crossing processes.
/// All but the IOCTLs on connections of their own use the bench's connection, the shared-memory gate. Each also
/// counts what the kernel allocated per operation (KbQueryKernelState's AllocatedBytes before and after).
/// </summary>
internal static unsafe class KernelBridgeMeasurements
{
    /// <summary>The IOCTL's input and output size, the same as the socket ping-pong's message.</summary>
    public const int IoctlBytes = BaselineMeasurements.PingPongBytes;

    /// <summary>
    /// NtTestAlert with no APC queued: the cheapest round trip there is. The kernel looks the thread
    /// up, finds no user APC and answers STATUS_SUCCESS; nothing else is done.
    /// </summary>
    public static BenchResult NullSystemCall(BenchContext context) => CountingKernelAllocation(context.Gate, () =>
    {
        using var scope = GateClient.Use(context.Gate);
        return LatencySampler.Measure(context.Settings, static () => Ntdll.NtTestAlert());
    });

    /// <summary>
    /// NtDeviceIoControlFile(IOCTL_ECHO_BUFFERED), 64 bytes in and 64 out, on a synchronous handle,
    /// on the bench's connection: the shared-memory gate (it checks that it is).
    /// </summary>
    public static BenchResult EchoIoctl(BenchContext context)
    {
        BenchGate.Require(context.Gate, GateFeatures.SharedMemory);
        return EchoIoctlOn(context, context.Gate);
    }

    /// <summary>The same IOCTL on a connection of its own that asks for the socket gate.</summary>
    public static BenchResult EchoIoctlOnSocketGate(BenchContext context)
    {
        using var socketGate = context.Connect(GateFeatures.None);
        return EchoIoctlOn(context, socketGate);
    }

    /// <summary>
    /// The same IOCTL on a shared-memory connection of its own that never spins (KERNELBRIDGE_SPIN=0):
    /// the caller and the kernel both sleep on futexes at once, so each call is two wake-ups.
    /// </summary>
    public static BenchResult EchoIoctlWithoutSpinning(BenchContext context)
    {
        using var sleepingGate = context.Connect(GateFeatures.SharedMemory | GateFeatures.NoSpin);
        return EchoIoctlOn(context, sleepingGate);
    }

    private static BenchResult EchoIoctlOn(BenchContext context, GateClient gate) => CountingKernelAllocation(gate, () =>
    {
        using var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate);
        using var scope = GateClient.Use(gate);
        // Native buffers: the caller's memory stays put without a fixed block around the timed loop.
        var input = (byte*)NativeMemory.AllocZeroed(IoctlBytes);
        var output = (byte*)NativeMemory.AllocZeroed(IoctlBytes);
        try
        {
            var handle = echo.Handle.Value;
            var code = EchoInterface.IOCTL_ECHO_BUFFERED.Value;
            var status = Ioctl(handle, code, input, output);
            if (!status.IsSuccess) throw new NtStatusException(status, "IOCTL_ECHO_BUFFERED");
            return LatencySampler.Measure(context.Settings, () => Ioctl(handle, code, input, output));
        }
        finally
        {
            NativeMemory.Free(input);
            NativeMemory.Free(output);
        }
    });

    private static Abi.NtStatus Ioctl(nint handle, uint code, byte* input, byte* output)
    {
        IO_STATUS_BLOCK iosb;
        return Ntdll.NtDeviceIoControlFile(handle, 0, 0, 0, &iosb, code, input, IoctlBytes, output, IoctlBytes);
    }

    /// <summary>
    /// WaitForSingleObject on a manual-reset event that is already set: the wait is satisfied at
    /// once, so this is the dispatcher's cost on top of a round trip.
    /// </summary>
    public static BenchResult SignalledWait(BenchContext context) => CountingKernelAllocation(context.Gate, () =>
    {
        using var signalled = KernelEvent.Create(manualReset: true, initialState: true, gate: context.Gate);
        return LatencySampler.Measure(context.Settings, () => signalled.Wait());
    });

    /// <summary>
    /// One round trip of events between two processes: this one sets PING and waits for PONG; the
    /// peer, waiting on PING, wakes and sets PONG. Reported whole (four system calls, two wake-ups).
    /// </summary>
    public static BenchResult CrossProcessEvent(BenchContext context) => CountingKernelAllocation(context.Gate, () =>
    {
        var name = BenchContext.UniqueName("event");
        using var ping = KernelEvent.Create(manualReset: false, name: name + "-ping", gate: context.Gate);
        using var pong = KernelEvent.Create(manualReset: false, name: name + "-pong", gate: context.Gate);
        using var peer = context.StartPeer("events", name + "-ping", name + "-pong");
        return LatencySampler.Measure(context.Settings, () =>
        {
            ping.Set();
            pong.Wait();
        });
    });

    /// <summary>Counts the kernel's allocation over a measurement, per operation it ran (warm-up included).</summary>
    internal static BenchResult CountingKernelAllocation(GateClient gate, Func<BenchResult> measure)
    {
        var before = KernelControl.QueryState(gate).AllocatedBytes;
        var result = measure();
        var after = KernelControl.QueryState(gate).AllocatedBytes;
        return result.Operations > 0 ? result with { KernelBytesPerOperation = (after - before) / (double)result.Operations } : result;
    }
}
