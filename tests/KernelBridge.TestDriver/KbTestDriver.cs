using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.TestDriver;

/// <summary>
/// The test driver: every request does what the test asked, and everything it sees is counted per
/// tag (the file name under the device: \\.\KbTest\my-test counts under "\my-test"), so parallel
/// tests and killed processes can be checked afterwards. Device names follow the service name, so
/// the assembly can be loaded twice (say, once to crash).
/// </summary>
public sealed partial class KbTestDriver : IDriver
{
    private sealed class TagState
    {
        public int Creates, Cleanups, Closes, Reads, Writes, DeviceControls, QueryInformation, Cancels, OpenFiles;
        public int QueryVolume, SetVolume, LastFsInformationClass, LastFsLength;
        public uint LastIrpFlags;
        public ReturnRequest? ReadWrite, Volume;
        public byte[] LastSetVolume = [];
        public readonly List<Irp> Parked = [];
    }

    private sealed class FileContext(long id, string tag)
    {
        public long Id { get; } = id;
        public string Tag { get; } = tag;
        public byte[] Stored = [];
        public (NameAnswer Answer, string Name)? Name;
        public MemoryState Memory = new();
    }

    private static readonly ConcurrentDictionary<string, TagState> Tags = new();
    private static long _nextContextId;

    public static NtStatus DriverEntry(DriverObject driverObject, string registryPath)
    {
        var service = driverObject.ServiceKeyName;
        foreach (var variant in KbTestInterface.Variants)
        {
            var status = Io.CreateDevice(driverObject, variant, KbTestInterface.Device(service, variant), DeviceType.FILE_DEVICE_UNKNOWN,
                DeviceCharacteristics.None, exclusive: variant == "Exclusive", out var device);
            if (!status.IsSuccess) return status;
            device!.Flags |= variant switch
            {
                "Direct" => DeviceFlags.DO_DIRECT_IO,
                "Neither" => DeviceFlags.None,
                _ => DeviceFlags.DO_BUFFERED_IO,
            };
            device.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;
            status = Io.CreateSymbolicLink($@"\??\{service}{variant}", KbTestInterface.Device(service, variant));
            if (!status.IsSuccess) return status;
        }
        var secured = CreateSecureDevices(driverObject);
        if (!secured.IsSuccess) return secured;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CREATE] = Create;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLEANUP] = Cleanup;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_CLOSE] = Close;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_READ] = ReadWrite;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_WRITE] = ReadWrite;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_DEVICE_CONTROL] = DeviceControl;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_QUERY_INFORMATION] = QueryInformation;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_QUERY_VOLUME_INFORMATION] = VolumeInformation;
        driverObject.MajorFunction[(int)IrpMajorFunction.IRP_MJ_SET_VOLUME_INFORMATION] = VolumeInformation;
        driverObject.DriverUnload = d =>
        {
            ClosePorts(d);
            foreach (var variant in KbTestInterface.Variants) Io.DeleteSymbolicLink($@"\??\{d.ServiceKeyName}{variant}");
            while (d.DeviceObject is { } device) Io.DeleteDevice(device);
        };
        return NtStatus.STATUS_SUCCESS;
    }

    private static TagState StateOf(string tag) => Tags.GetOrAdd(tag, _ => new TagState());

    private static FileContext ContextOf(IoStackLocation stack) => (FileContext)stack.FileObject!.FsContext!;

    private static NtStatus Complete(Irp irp, NtStatus status, long information)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = information;
        Io.CompleteRequest(irp);
        return status;
    }

    private static NtStatus Create(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var tag = stack.FileObject!.FileName;
        var state = StateOf(tag);
        Interlocked.Increment(ref state.Creates);
        Interlocked.Increment(ref state.OpenFiles);
        stack.FileObject.FsContext = new FileContext(Interlocked.Increment(ref _nextContextId), tag);
        return Complete(irp, NtStatus.STATUS_SUCCESS, (long)CreateInformation.FILE_OPENED);
    }

    private static NtStatus Cleanup(DeviceObject device, Irp irp)
    {
        var context = ContextOf(Io.GetCurrentIrpStackLocation(irp));
        Interlocked.Increment(ref StateOf(context.Tag).Cleanups);
        ReleaseMemory(context.Memory);
        return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
    }

    private static NtStatus Close(DeviceObject device, Irp irp)
    {
        var context = ContextOf(Io.GetCurrentIrpStackLocation(irp));
        var state = StateOf(context.Tag);
        Interlocked.Increment(ref state.Closes);
        Interlocked.Decrement(ref state.OpenFiles);
        return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
    }

    private static Span<byte> OutputOf(Irp irp, TransferMethod method, int length) => method switch
    {
        TransferMethod.METHOD_BUFFERED => irp.SystemBuffer.Span[..Math.Min(length, irp.SystemBuffer.Length)],
        TransferMethod.METHOD_NEITHER => irp.UserBuffer.Span,
        _ => irp.MdlAddress is { } mdl ? Mm.GetSystemAddressForMdlSafe(mdl).Span : [],
    };

    /// <summary>Does what <paramref name="request"/> says with <paramref name="output"/> and the IRP.</summary>
    private static NtStatus Answer(DeviceObject device, Irp irp, TagState state, in ReturnRequest request, Span<byte> output)
    {
        output[..Math.Min(Math.Max(request.FillLength, 0), output.Length)].Fill((byte)request.FillByte);
        var iosbStatus = (NtStatus)request.IosbStatus;
        switch (request.Pend)
        {
            case PendMode.None:
                Complete(irp, iosbStatus, request.Information);
                return (NtStatus)request.DispatchStatus;
            case PendMode.MarkPendingCompleteInline:
                Io.MarkIrpPending(irp);
                Complete(irp, iosbStatus, request.Information);
                return (NtStatus)request.DispatchStatus;
            case PendMode.BlockInDispatch:
                Thread.Sleep(Math.Clamp(request.DelayMs, 0, 60_000));
                Complete(irp, iosbStatus, request.Information);
                return (NtStatus)request.DispatchStatus;
            case PendMode.CompleteLater:
            {
                Io.MarkIrpPending(irp);
                var information = request.Information;
                _ = Task.Delay(Math.Max(0, request.DelayMs)).ContinueWith(_ => Complete(irp, iosbStatus, information), TaskScheduler.Default);
                return NtStatus.STATUS_PENDING;
            }
            default:
                Io.MarkIrpPending(irp);
                irp.DriverContext[0] = state;
                lock (state.Parked)
                {
                    Io.SetCancelRoutine(irp, CancelParked);
                    if (irp.Cancel && Io.SetCancelRoutine(irp, null) is not null)
                    {
                        Interlocked.Increment(ref state.Cancels);
                        Complete(irp, NtStatus.STATUS_CANCELLED, 0);
                        return NtStatus.STATUS_PENDING;
                    }
                    state.Parked.Add(irp);
                }
                return NtStatus.STATUS_PENDING;
        }
    }

    private static void CancelParked(DeviceObject device, Irp irp)
    {
        Io.ReleaseCancelSpinLock(Io.CancelIrql(irp));
        var state = (TagState)irp.DriverContext[0]!;
        lock (state.Parked) state.Parked.Remove(irp);
        Interlocked.Increment(ref state.Cancels);
        Complete(irp, NtStatus.STATUS_CANCELLED, 0);
    }

    private static NtStatus ReadWrite(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var context = ContextOf(stack);
        var state = StateOf(context.Tag);
        var isRead = stack.MajorFunction == IrpMajorFunction.IRP_MJ_READ;
        Interlocked.Increment(ref isRead ? ref state.Reads : ref state.Writes);
        var length = isRead ? stack.Parameters.Read.Length : stack.Parameters.Write.Length;
        var buffer = (device.Flags & DeviceFlags.DO_BUFFERED_IO) != 0 ? irp.SystemBuffer.Span
            : (device.Flags & DeviceFlags.DO_DIRECT_IO) != 0 ? (irp.MdlAddress is { } mdl ? Mm.GetSystemAddressForMdlSafe(mdl).Span : [])
            : irp.UserBuffer.Span;
        buffer = buffer[..Math.Min(length, buffer.Length)];
        if (state.ReadWrite is { } configured) return Answer(device, irp, state, configured, isRead ? buffer : []);
        if (!isRead)
        {
            context.Stored = buffer.ToArray();
            return Complete(irp, NtStatus.STATUS_SUCCESS, length);
        }
        var count = Math.Min(context.Stored.Length, buffer.Length);
        context.Stored.AsSpan(0, count).CopyTo(buffer);
        return Complete(irp, NtStatus.STATUS_SUCCESS, count);
    }

    private static NtStatus DeviceControl(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var parameters = stack.Parameters.DeviceIoControl;
        var code = new CtlCode(parameters.IoControlCode);
        var context = ContextOf(stack);
        var state = StateOf(context.Tag);
        Interlocked.Increment(ref state.DeviceControls);
        var input = code.Method == TransferMethod.METHOD_NEITHER
            ? parameters.Type3InputBuffer.Span[..Math.Min(parameters.InputBufferLength, parameters.Type3InputBuffer.Length)]
            : irp.SystemBuffer.Span[..Math.Min(parameters.InputBufferLength, irp.SystemBuffer.Length)];

        if (code.Function is >= 0x900 and <= 0x903)
        {
            if (input.Length < Marshal.SizeOf<ReturnRequest>()) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
            var request = MemoryMarshal.Read<ReturnRequest>(input);
            return Answer(device, irp, state, request, OutputOf(irp, code.Method, parameters.OutputBufferLength));
        }
        if (code.Function is >= 0x930 and <= 0x93F) return MemoryControl(irp, code, input, context.Memory, parameters.OutputBufferLength);
        if (code.Function is >= 0x940 and <= 0x94F) return PortControl(device, irp, code, input, parameters.OutputBufferLength);
        if (code.Function is >= 0x960 and <= 0x96F) return SecurityControl(device, irp, code, input);
        if (code.Function is >= 0x950 and <= 0x95F) return FaultControl(irp, code, input, parameters.OutputBufferLength);
        if (code == KbTestInterface.IOCTL_KBTEST_COUNTERS)
        {
            var tag = Encoding.Unicode.GetString(input);
            var size = Marshal.SizeOf<KbTestCounters>();
            if (parameters.OutputBufferLength < size) return Complete(irp, NtStatus.STATUS_BUFFER_TOO_SMALL, 0);
            var seen = StateOf(tag);
            int parked;
            lock (seen.Parked) parked = seen.Parked.Count;
            var counters = new KbTestCounters(seen.Creates, seen.Cleanups, seen.Closes, seen.Reads, seen.Writes, seen.DeviceControls,
                seen.QueryInformation, seen.Cancels, seen.OpenFiles, parked, seen.QueryVolume, seen.SetVolume, seen.LastFsInformationClass,
                seen.LastFsLength, seen.LastIrpFlags);
            MemoryMarshal.Write(irp.SystemBuffer.Span, in counters);
            return Complete(irp, NtStatus.STATUS_SUCCESS, size);
        }
        if (code == KbTestInterface.IOCTL_KBTEST_FSCONTEXT)
        {
            if (parameters.OutputBufferLength < sizeof(long)) return Complete(irp, NtStatus.STATUS_BUFFER_TOO_SMALL, 0);
            var id = context.Id;
            MemoryMarshal.Write(irp.SystemBuffer.Span, in id);
            return Complete(irp, NtStatus.STATUS_SUCCESS, sizeof(long));
        }
        if (code == KbTestInterface.IOCTL_KBTEST_RELEASE)
        {
            if (input.Length < 16) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
            var status = (NtStatus)MemoryMarshal.Read<int>(input);
            var information = MemoryMarshal.Read<long>(input[8..]);
            var released = new List<Irp>();
            lock (state.Parked)
            {
                foreach (var parked in state.Parked)
                    if (Io.SetCancelRoutine(parked, null) is not null) released.Add(parked);
                state.Parked.RemoveAll(released.Contains);
            }
            foreach (var parked in released) Complete(parked, status, information);
            var count = released.Count;
            if (parameters.OutputBufferLength >= sizeof(int)) MemoryMarshal.Write(irp.SystemBuffer.Span, in count);
            return Complete(irp, NtStatus.STATUS_SUCCESS, parameters.OutputBufferLength >= sizeof(int) ? sizeof(int) : 0);
        }
        if (code == KbTestInterface.IOCTL_KBTEST_NEEDS_READ || code == KbTestInterface.IOCTL_KBTEST_NEEDS_WRITE
            || code == KbTestInterface.IOCTL_KBTEST_NEEDS_READ_WRITE)
            return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
        if (code == KbTestInterface.IOCTL_KBTEST_SET_RW || code == KbTestInterface.IOCTL_KBTEST_SET_VOLUME)
        {
            if (input.Length < Marshal.SizeOf<ReturnRequest>()) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
            var answer = MemoryMarshal.Read<ReturnRequest>(input);
            if (code == KbTestInterface.IOCTL_KBTEST_SET_RW) state.ReadWrite = answer;
            else state.Volume = answer;
            return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
        }
        if (code == KbTestInterface.IOCTL_KBTEST_SET_NAME)
        {
            var size = Marshal.SizeOf<NameAnswer>();
            if (input.Length < size) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
            context.Name = (MemoryMarshal.Read<NameAnswer>(input), new string(MemoryMarshal.Cast<byte, char>(input[size..])));
            return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
        }
        if (code == KbTestInterface.IOCTL_KBTEST_LAST_SET_VOLUME)
        {
            var seen = state.LastSetVolume;
            var count = Math.Min(seen.Length, parameters.OutputBufferLength);
            seen.AsSpan(0, count).CopyTo(irp.SystemBuffer.Span);
            return Complete(irp, count < seen.Length ? NtStatus.STATUS_BUFFER_OVERFLOW : NtStatus.STATUS_SUCCESS, count);
        }
        if (code == KbTestInterface.IOCTL_KBTEST_CRASH)
        {
            object? nothing = null;
            return (NtStatus)nothing!.GetHashCode();
        }
        return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}
