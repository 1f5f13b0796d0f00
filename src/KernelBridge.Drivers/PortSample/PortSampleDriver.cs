using System.Diagnostics;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.PortSample;

/// <summary>
/// A communication port and a driver that talks over it (the kernel half of Windows-driver-samples'
/// scanner, without the file system): the port \PortSample takes one connection; IOCTL_PORTSAMPLE_RUN
/// makes the driver send messages to it from worker tasks, with or without waiting for replies, and
/// report how long they took. The benchmark's FltSendMessage.
/// </summary>
public sealed class PortSampleDriver : IDriver
{
    private static readonly Lock Gate = new();
    private static FltPort? _server;
    private static FltPort? _client;

    public static NtStatus DriverEntry(DriverObject driverObject, string registryPath)
    {
        var status = Io.CreateDevice(driverObject, null, PortSampleInterface.DeviceName, DeviceType.FILE_DEVICE_UNKNOWN,
            DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN, exclusive: false, out var device);
        if (!status.IsSuccess) return status;
        device!.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;
        status = Io.CreateSymbolicLink(PortSampleInterface.DosName, PortSampleInterface.DeviceName);
        if (status.IsSuccess)
            status = Flt.CreateCommunicationPort(driverObject, out _server, PortSampleInterface.PortName, null, driverObject, Connect, Disconnect, null,
                maxConnections: 1);
        if (!status.IsSuccess)
        {
            Io.DeleteSymbolicLink(PortSampleInterface.DosName);
            Io.DeleteDevice(device);
            return status;
        }
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CREATE] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLOSE] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_DEVICE_CONTROL] = DeviceControl;
        driverObject.DriverUnload = Unload;
        return NtStatus.STATUS_SUCCESS;
    }

    private static NtStatus Connect(FltPort clientPort, object? serverPortCookie, ReadOnlySpan<byte> connectionContext, out object? connectionCookie)
    {
        lock (Gate) _client = clientPort;
        connectionCookie = serverPortCookie;
        return NtStatus.STATUS_SUCCESS;
    }

    private static void Disconnect(object? connectionCookie)
    {
        FltPort? client;
        lock (Gate)
        {
            client = _client;
            _client = null;
        }
        Flt.CloseClientPort((DriverObject)connectionCookie!, ref client);
    }

    private static void Unload(DriverObject driver)
    {
        FltPort? client, server;
        lock (Gate)
        {
            (client, server) = (_client, _server);
            (_client, _server) = (null, null);
        }
        if (server is not null) Flt.CloseCommunicationPort(server);
        Flt.CloseClientPort(driver, ref client);
        Io.DeleteSymbolicLink(PortSampleInterface.DosName);
        while (driver.DeviceObject is { } device) Io.DeleteDevice(device);
    }

    private static NtStatus DeviceControl(DeviceObject device, Irp irp)
    {
        var parameters = Io.GetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl;
        if (new CtlCode(parameters.IoControlCode) != PortSampleInterface.IOCTL_PORTSAMPLE_RUN)
            return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST, 0);
        if (parameters.InputBufferLength < Marshal.SizeOf<PortSampleRun>() || parameters.OutputBufferLength < Marshal.SizeOf<PortSampleResult>())
            return Complete(irp, NtStatus.STATUS_BUFFER_TOO_SMALL, 0);
        var run = MemoryMarshal.Read<PortSampleRun>(irp.SystemBuffer.Span);
        if (run.Count <= 0 || run.MessageSize < 0 || run.InFlight <= 0 || run.InFlight > 256) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        FltPort? client;
        lock (Gate) client = _client;
        if (client is null) return Complete(irp, NtStatus.STATUS_PORT_DISCONNECTED, 0);
        // A dispatch routine must not wait for its own caller's process: the sends run on worker tasks.
        Io.MarkIrpPending(irp);
        _ = Task.Run(() => RunAsync(device.DriverObject, client, run, irp));
        return NtStatus.STATUS_PENDING;
    }

    private static async Task RunAsync(DriverObject driver, FltPort client, PortSampleRun run, Irp irp)
    {
        var next = -1;
        var completed = 0;
        var failed = 0;
        var lastFailure = 0;
        var began = Stopwatch.GetTimestamp();
        var workers = new Task[run.InFlight];
        for (var w = 0; w < workers.Length; w++)
        {
            workers[w] = Task.Run(async () =>
            {
                // Each worker's buffers are its own and reused: the steady state allocates nothing.
                var message = new byte[run.MessageSize];
                var reply = run.ReplySize >= 0 ? new byte[run.ReplySize] : null;
                while (true)
                {
                    var index = Interlocked.Increment(ref next);
                    if (index >= run.Count) return;
                    if (message.Length >= sizeof(int)) MemoryMarshal.Write(message, in index);
                    var result = await Flt.SendMessageAsync(driver, client, message, reply is null ? (Memory<byte>?)null : reply, null).ConfigureAwait(false);
                    if (result.Status.IsSuccess) Interlocked.Increment(ref completed);
                    else
                    {
                        Interlocked.Increment(ref failed);
                        lastFailure = result.Status.Value;
                        return;
                    }
                }
            });
        }
        await Task.WhenAll(workers).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(began);
        var outcome = new PortSampleResult((long)(elapsed.TotalMilliseconds * 1_000_000), completed, failed, lastFailure);
        MemoryMarshal.Write(irp.SystemBuffer.Span, in outcome);
        Complete(irp, NtStatus.STATUS_SUCCESS, Marshal.SizeOf<PortSampleResult>());
    }

    private static NtStatus Succeed(DeviceObject device, Irp irp) => Complete(irp, NtStatus.STATUS_SUCCESS, 0);

    private static NtStatus Complete(Irp irp, NtStatus status, long information)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = information;
        Io.CompleteRequest(irp);
        return status;
    }
}
