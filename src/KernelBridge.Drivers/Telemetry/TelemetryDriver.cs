using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Channels;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.Telemetry;

/// <summary>
/// The telemetry sample: streams records to a user program over a shared channel (one per open
/// file, mapped into the caller by IOCTL_TELEMETRY_START), and shares one named section with every
/// process that asks (IOCTL_TELEMETRY_MAP_SHARED), writing a heartbeat into it. Everything mapped
/// into a process is unmapped at that file's IRP_MJ_CLEANUP (which process rundown sends too).
/// </summary>
public static class TelemetryDriver
{
    private sealed class FileState
    {
        public TelemetryStream? Stream;
        public ulong SharedAddress;
    }

    /// <summary>The shared section (a kernel handle), its kernel view and the heartbeat timer, while any file maps it.</summary>
    private sealed class DeviceState
    {
        public readonly Lock Lock = new();
        public long SharedSection;
        public ulong SharedSystemAddress;
        public int SharedUsers;
        public Timer? Heartbeat;
    }

    public static NtStatus DriverEntry(DriverObject driverObject, string registryPath)
    {
        var status = Io.CreateDevice(driverObject, new DeviceState(), TelemetryInterface.DeviceName, DeviceType.FILE_DEVICE_UNKNOWN,
            DeviceCharacteristics.FILE_DEVICE_SECURE_OPEN, exclusive: false, out var device);
        if (!status.IsSuccess) return status;
        status = Io.CreateSymbolicLink(TelemetryInterface.DosName, TelemetryInterface.DeviceName);
        if (!status.IsSuccess)
        {
            Io.DeleteDevice(device!);
            return status;
        }
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CREATE] = Create;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLOSE] = Succeed;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLEANUP] = Cleanup;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_DEVICE_CONTROL] = DeviceControl;
        driverObject.DriverUnload = d =>
        {
            Io.DeleteSymbolicLink(TelemetryInterface.DosName);
            while (d.DeviceObject is { } dev) Io.DeleteDevice(dev);
        };
        device!.Flags |= DeviceFlags.DO_BUFFERED_IO;
        device.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;
        return NtStatus.STATUS_SUCCESS;
    }

    private static NtStatus Complete(Irp irp, NtStatus status, long information = 0)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = information;
        Io.CompleteRequest(irp);
        return status;
    }

    private static NtStatus Succeed(DeviceObject device, Irp irp) => Complete(irp, NtStatus.STATUS_SUCCESS);

    private static NtStatus Create(DeviceObject device, Irp irp)
    {
        Io.GetCurrentIrpStackLocation(irp).FileObject!.FsContext = new FileState();
        return Complete(irp, NtStatus.STATUS_SUCCESS);
    }

    private static NtStatus DeviceControl(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var file = (FileState)stack.FileObject!.FsContext!;
        var parameters = stack.Parameters.DeviceIoControl;
        var code = new CtlCode(parameters.IoControlCode);
        var buffer = irp.SystemBuffer.Span;
        lock (file)
        {
            if (code == TelemetryInterface.IOCTL_TELEMETRY_START)
                return Start(irp, file, buffer[..Math.Min(parameters.InputBufferLength, buffer.Length)], parameters.OutputBufferLength);
            if (code == TelemetryInterface.IOCTL_TELEMETRY_STOP)
            {
                if (file.Stream is not { } stream) return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_STATE);
                if (parameters.OutputBufferLength < Marshal.SizeOf<TelemetryStats>()) return Complete(irp, NtStatus.STATUS_BUFFER_TOO_SMALL);
                MemoryMarshal.Write(buffer, stream.Stop());
                return Complete(irp, NtStatus.STATUS_SUCCESS, Marshal.SizeOf<TelemetryStats>());
            }
            if (code == TelemetryInterface.IOCTL_TELEMETRY_MAP_SHARED)
                return MapShared(irp, (DeviceState)device.DeviceExtension!, file, parameters.OutputBufferLength);
        }
        return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST);
    }

    private static NtStatus Start(Irp irp, FileState file, ReadOnlySpan<byte> input, int outputLength)
    {
        if (input.Length < Marshal.SizeOf<TelemetryStart>() || outputLength < Marshal.SizeOf<TelemetryChannel>())
            return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER);
        if (file.Stream is not null) return Complete(irp, NtStatus.STATUS_DEVICE_BUSY);
        var request = MemoryMarshal.Read<TelemetryStart>(input);
        var capacity = request.RingCapacity == 0 ? TelemetryInterface.DefaultRingCapacity : request.RingCapacity;
        if (capacity < 4096 || capacity > 64 << 20 || (capacity & (capacity - 1)) != 0 || request.RecordLength > capacity / 2 - 64
            || request.Policy is not (ChannelOverflowPolicy.Block or ChannelOverflowPolicy.Drop))
            return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER);
        // A stream's records all have one length: the ring need not allow longer ones (an echo sends back what comes up, of any length).
        var longest = request.Count < 0 ? 0 : Math.Max(request.RecordLength, Marshal.SizeOf<TelemetryRecord>());
        var options = new ChannelOptions(new ChannelDirectionOptions(capacity, request.Policy, longest), new ChannelDirectionOptions(Math.Min(capacity, 1 << 16)));
        var status = SharedChannel.Create(options, out var channel);
        if (!status.IsSuccess) return Complete(irp, status);
        status = channel!.MapIntoCurrentProcess(out var address);
        if (!status.IsSuccess)
        {
            channel.Dispose();
            return Complete(irp, status);
        }
        var stream = new TelemetryStream(channel, address, request);
        file.Stream = stream;
        stream.Start();
        MemoryMarshal.Write(irp.SystemBuffer.Span, new TelemetryChannel(address, channel.Length));
        return Complete(irp, NtStatus.STATUS_SUCCESS, Marshal.SizeOf<TelemetryChannel>());
    }

    private static NtStatus MapShared(Irp irp, DeviceState device, FileState file, int outputLength)
    {
        if (outputLength < sizeof(ulong)) return Complete(irp, NtStatus.STATUS_BUFFER_TOO_SMALL);
        if (file.SharedAddress != 0) return Complete(irp, NtStatus.STATUS_DEVICE_BUSY);
        lock (device.Lock)
        {
            if (device.SharedSection == 0)
            {
                var status = CreateShared(device);
                if (!status.IsSuccess) return Complete(irp, status);
            }
            ulong address = 0;
            long offset = 0;
            ulong size = 0;
            var mapped = Zw.MapViewOfSection(device.SharedSection, Zw.CurrentProcess, ref address, 0, 0, ref offset, ref size, SectionInherit.ViewUnmap, 0,
                PageProtection.PAGE_READWRITE);
            if (!mapped.IsSuccess)
            {
                if (device.SharedUsers == 0) ReleaseShared(device);
                return Complete(irp, mapped);
            }
            device.SharedUsers++;
            file.SharedAddress = address;
            MemoryMarshal.Write(irp.SystemBuffer.Span, in address);
            return Complete(irp, NtStatus.STATUS_SUCCESS, sizeof(ulong));
        }
    }

    /// <summary>The named section (a kernel handle keeps its name), a kernel view of it, and the heartbeat that writes into that view.</summary>
    private static NtStatus CreateShared(DeviceState device)
    {
        var status = Zw.CreateSection(out var section, AccessMask.SECTION_ALL_ACCESS, $@"\BaseNamedObjects\{TelemetryInterface.SharedSectionName}",
            (uint)ObjectAttributeFlags.OBJ_KERNEL_HANDLE, TelemetryInterface.SharedSectionLength, PageProtection.PAGE_READWRITE, MemoryAttributes.SEC_COMMIT);
        if (!status.IsSuccess) return status;
        // A view in kernel space for the heartbeat, through the section object (the view keeps it referenced).
        status = Ob.ReferenceObjectByHandle<SectionObject>(section, 0, ObjectTypes.Section, ProcessorMode.KernelMode, out var sectionObject);
        if (!status.IsSuccess)
        {
            Zw.Close(section);
            return status;
        }
        ulong size = 0;
        status = Mm.MapViewInSystemSpace(sectionObject!, out var address, ref size);
        Ob.DereferenceObject(sectionObject!);
        if (!status.IsSuccess)
        {
            Zw.Close(section);
            return status;
        }
        device.SharedSection = section;
        device.SharedSystemAddress = address;
        var heartbeat = Mm.SystemMemory(address + TelemetryInterface.HeartbeatOffset, sizeof(long));
        device.Heartbeat = new Timer(_ =>
        {
            var span = MemoryMarshal.Cast<byte, long>(heartbeat.Span);
            Interlocked.Increment(ref span[0]);
        }, null, TimeSpan.Zero, TimeSpan.FromMilliseconds(10));
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>Nobody maps the shared section any more: the heartbeat stops (and any tick in progress ends) before its view goes, then the handle.</summary>
    private static void ReleaseShared(DeviceState device)
    {
        if (device.Heartbeat is { } heartbeat)
        {
            using var stopped = new ManualResetEvent(false);
            if (heartbeat.Dispose(stopped)) stopped.WaitOne(TimeSpan.FromSeconds(5));
            device.Heartbeat = null;
        }
        if (device.SharedSystemAddress != 0) Mm.UnmapViewInSystemSpace(device.SharedSystemAddress);
        if (device.SharedSection != 0) Zw.Close(device.SharedSection);
        device.SharedSystemAddress = 0;
        device.SharedSection = 0;
    }

    private static NtStatus Cleanup(DeviceObject device, Irp irp)
    {
        var file = (FileState)Io.GetCurrentIrpStackLocation(irp).FileObject!.FsContext!;
        var state = (DeviceState)device.DeviceExtension!;
        lock (file)
        {
            if (file.Stream is { } stream)
            {
                stream.Stop();
                Zw.UnmapViewOfSection(Zw.CurrentProcess, stream.UserAddress);
                stream.Channel.Dispose();
                file.Stream = null;
            }
            if (file.SharedAddress != 0)
            {
                Zw.UnmapViewOfSection(Zw.CurrentProcess, file.SharedAddress);
                file.SharedAddress = 0;
                lock (state.Lock)
                {
                    if (--state.SharedUsers == 0) ReleaseShared(state);
                }
            }
        }
        return Complete(irp, NtStatus.STATUS_SUCCESS);
    }
}
