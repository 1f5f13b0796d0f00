using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.TestMinifilter;

/// <summary>
/// Two minifilters from one driver, at altitudes 385100 ("U") and 385000 ("L"), with callbacks for
/// create, read, write, cleanup and close. Each logs every callback, keeps a stream context (the
/// opens of the stream) and a stream-handle context, and applies the tests' rules. The control
/// device \Device\KbMinifilter takes the rules and gives the log and the counters.
/// </summary>
public sealed class KbMinifilterDriver : IDriver
{
    private static readonly object LogLock = new();
    private static readonly StringBuilder Log = new();
    private static TestFilter[] _filters = [];
    private static DeviceObject? _control;

    public static NtStatus DriverEntry(DriverObject driverObject, string registryPath)
    {
        var status = Io.CreateDevice(driverObject, null, KbMinifilterInterface.ControlName, DeviceType.FILE_DEVICE_UNKNOWN, DeviceCharacteristics.None,
            false, out var control);
        if (!status.IsSuccess) return status;
        control!.Flags = (control.Flags | DeviceFlags.DO_BUFFERED_IO) & ~DeviceFlags.DO_DEVICE_INITIALIZING;
        _control = control;
        Io.CreateSymbolicLink(@"\??\KbMinifilter", KbMinifilterInterface.ControlName);
        for (var major = 0; major < driverObject.MajorFunction.Length; major++) driverObject.MajorFunction[major] = Control;
        driverObject.DriverUnload = Unload;

        _filters = [new TestFilter("U"), new TestFilter("L")];
        foreach (var filter in _filters)
        {
            status = Flt.RegisterFilter(driverObject, filter.Registration(filter.Tag == "U" ? KbMinifilterInterface.UpperAltitude : KbMinifilterInterface.LowerAltitude),
                out var registered);
            if (!status.IsSuccess) return status;
            filter.Filter = registered;
        }
        foreach (var filter in _filters)
        {
            status = Flt.StartFiltering(filter.Filter!);
            if (!status.IsSuccess) return status;
        }
        return NtStatus.STATUS_SUCCESS;
    }

    private static void Unload(DriverObject driver)
    {
        foreach (var filter in _filters) Flt.UnregisterFilter(filter.Filter!);
        Io.DeleteSymbolicLink(@"\??\KbMinifilter");
    }

    internal static void Write(string line)
    {
        lock (LogLock) Log.Append(line).Append('\n');
    }

    internal static void Later(int milliseconds, Action action)
    {
        var item = Io.AllocateWorkItem(_control!);
        Io.QueueWorkItem(item, (_, _) =>
        {
            Thread.Sleep(milliseconds);
            action();
        }, WorkQueueType.DelayedWorkQueue, null);
    }

    private static NtStatus Control(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        long information = 0;
        var status = NtStatus.STATUS_SUCCESS;
        if (stack.MajorFunction == IrpMajorFunction.IRP_MJ_DEVICE_CONTROL)
            status = DeviceControl(stack.Parameters.DeviceIoControl, irp.SystemBuffer.Span, out information);
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = information;
        Io.CompleteRequest(irp);
        return status;
    }

    private static NtStatus DeviceControl(DeviceIoControlParameters parameters, Span<byte> buffer, out long information)
    {
        information = 0;
        var input = buffer[..Math.Min(buffer.Length, parameters.InputBufferLength)];
        var code = parameters.IoControlCode;
        if (code == KbMinifilterInterface.IOCTL_KBMF_TAKE_LOG.Value)
        {
            string text;
            lock (LogLock)
            {
                text = Log.ToString();
                Log.Clear();
            }
            var bytes = Encoding.UTF8.GetBytes(text);
            var length = Math.Min(bytes.Length, parameters.OutputBufferLength);
            bytes.AsSpan(0, length).CopyTo(buffer);
            information = length;
            return NtStatus.STATUS_SUCCESS;
        }
        if (code == KbMinifilterInterface.IOCTL_KBMF_INSTANCES.Value)
        {
            if (parameters.OutputBufferLength < 8) return NtStatus.STATUS_BUFFER_TOO_SMALL;
            for (var i = 0; i < 2; i++) MemoryMarshal.Write(buffer[(4 * i)..], Flt.EnumerateInstances(_filters[i].Filter!).Count);
            information = 8;
            return NtStatus.STATUS_SUCCESS;
        }
        if (input.Length < 4 || MemoryMarshal.Read<uint>(input) >= (uint)_filters.Length) return NtStatus.STATUS_INVALID_PARAMETER;
        var filter = _filters[MemoryMarshal.Read<uint>(input)];
        if (code == KbMinifilterInterface.IOCTL_KBMF_SET_RULE.Value)
        {
            if (input.Length < 12) return NtStatus.STATUS_INVALID_PARAMETER;
            var kind = (RuleKind)MemoryMarshal.Read<uint>(input[4..]);
            var argument = MemoryMarshal.Read<uint>(input[8..]);
            var fragment = MemoryMarshal.Cast<byte, char>(input[12..]).ToString();
            filter.SetRule(kind, (int)argument, fragment);
            return NtStatus.STATUS_SUCCESS;
        }
        if (code == KbMinifilterInterface.IOCTL_KBMF_COUNTERS.Value)
        {
            if (parameters.OutputBufferLength < Marshal.SizeOf<KbMinifilterCounters>()) return NtStatus.STATUS_BUFFER_TOO_SMALL;
            var counters = filter.Counters();
            MemoryMarshal.Write(buffer, in counters);
            information = Marshal.SizeOf<KbMinifilterCounters>();
            return NtStatus.STATUS_SUCCESS;
        }
        if (code == KbMinifilterInterface.IOCTL_KBMF_REFUSE_DETACH.Value)
        {
            filter.RefuseDetach = input.Length >= 8 && MemoryMarshal.Read<uint>(input[4..]) != 0;
            return NtStatus.STATUS_SUCCESS;
        }
        if (code == KbMinifilterInterface.IOCTL_KBMF_DETACH.Value) return Flt.DetachVolume(filter.Filter!, @"\Device\RamFs");
        if (code == KbMinifilterInterface.IOCTL_KBMF_ATTACH.Value) return Flt.AttachVolume(filter.Filter!, @"\Device\RamFs", out _);
        if (code == KbMinifilterInterface.IOCTL_KBMF_UNREGISTER.Value)
        {
            Flt.UnregisterFilter(filter.Filter!);
            return NtStatus.STATUS_SUCCESS;
        }
        return NtStatus.STATUS_INVALID_DEVICE_REQUEST;
    }
}
