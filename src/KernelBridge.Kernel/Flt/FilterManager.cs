using KernelBridge.Kernel.Ex;
using KernelBridge.Kernel.Io;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Flt;

/// <summary>
/// fltmgr: a driver of the kernel's own (\Driver\FltMgr) whose device sits on top of each
/// file-system volume (a "frame") and calls the minifilters' callbacks in altitude order. Volumes
/// are devices of a file-system type; a volume that appears later is offered to every started
/// filter, and a volume whose driver unloads takes its instances with it.
/// </summary>
internal sealed partial class FilterManager(IoManager io, DriverLoader loader, ILogger logger)
{
    public const string ServiceName = "FltMgr";

    private readonly object _lock = new();
    private readonly List<RegisteredFilter> _filters = [];
    private readonly Dictionary<DeviceObject, VolumeFrame> _frames = new(ReferenceEqualityComparer.Instance);
    private DriverObject? _driver;

    public IoManager Io => io;

    /// <summary>The communication ports and their message device, \FileSystem\Filters\FltMgrMsg (made by DriverEntry).</summary>
    public Ports.FltPortManager Ports { get; private set; } = null!;
    public IKernelRuntime Runtime => io.Runtime;

    /// <summary>The filter manager's DriverEntry: every major function goes through the frame.</summary>
    public NtStatus DriverEntry(DriverObject driver, string registryPath)
    {
        _ = registryPath;
        _driver = driver;
        for (var major = 0; major < driver.MajorFunction.Length; major++) driver.MajorFunction[major] = Dispatch;
        Ports = new Ports.FltPortManager(io, driver);
        loader.DriverLoaded += OnDriverLoaded;
        loader.DriverUnloading += OnDriverUnloading;
        return NtStatus.STATUS_SUCCESS;
    }

    public NtStatus RegisterFilter(DriverObject driver, FltRegistration registration, out FltFilter? filter)
    {
        filter = null;
        if (!RegisteredFilter.TryParseAltitude(registration.Altitude, out var altitude)) return NtStatus.STATUS_INVALID_PARAMETER;
        foreach (var operation in registration.OperationRegistration)
            if ((uint)operation.MajorFunction > (uint)IrpMajorFunction.IRP_MJ_MAXIMUM_FUNCTION) return NtStatus.STATUS_INVALID_PARAMETER;
        var registered = new RegisteredFilter(driver, registration, altitude);
        lock (_lock) _filters.Add(registered);
        filter = registered;
        LogRegistered(driver.DriverName, registration.Altitude);
        return NtStatus.STATUS_SUCCESS;
    }

    public NtStatus StartFiltering(FltFilter filter)
    {
        if (filter is not RegisteredFilter registered || registered.Unregistering) return NtStatus.STATUS_INVALID_PARAMETER;
        lock (_lock)
        {
            if (registered.Started) return NtStatus.STATUS_INVALID_PARAMETER;
            registered.Started = true;
        }
        foreach (var volume in Volumes()) Offer(registered, volume, FltInstanceSetupFlags.FLTFL_INSTANCE_SETUP_AUTOMATIC_ATTACHMENT, out _);
        return NtStatus.STATUS_SUCCESS;
    }

    public void UnregisterFilter(FltFilter filter)
    {
        if (filter is not RegisteredFilter registered) return;
        lock (_lock)
        {
            if (registered.Unregistering) return;
            registered.Unregistering = true;
            _filters.Remove(registered);
        }
        foreach (var instance in InstancesOf(registered).Cast<FilterInstance>())
            TearDown(instance, FltInstanceTeardownFlags.FLTFL_INSTANCE_TEARDOWN_FILTER_UNLOAD);
        LogUnregistered(filter.DriverObject.DriverName);
    }

    public NtStatus AttachVolume(FltFilter filter, string volumeName, out FltInstance? instance)
    {
        instance = null;
        if (filter is not RegisteredFilter registered || !registered.Callable) return NtStatus.STATUS_INVALID_PARAMETER;
        if (Volumes().FirstOrDefault(v => string.Equals(v.Name, volumeName, StringComparison.OrdinalIgnoreCase)) is not { } volume)
            return NtStatus.STATUS_INVALID_PARAMETER;
        var status = Offer(registered, volume, FltInstanceSetupFlags.FLTFL_INSTANCE_SETUP_MANUAL_ATTACHMENT, out var attached);
        instance = attached;
        return status;
    }

    public NtStatus DetachVolume(FltFilter filter, string volumeName)
    {
        var instance = InstancesOf(filter).Cast<FilterInstance>().FirstOrDefault(i => string.Equals(i.Volume.Name, volumeName, StringComparison.OrdinalIgnoreCase));
        if (instance is null) return NtStatus.STATUS_INVALID_PARAMETER;
        if (instance.Registered.Registration.InstanceQueryTeardownCallback is not { } query) return NtStatus.STATUS_FLT_DO_NOT_DETACH;
        NtStatus status;
        try
        {
            using var scope = KernelRuntime.Enter(Runtime);
            status = query(instance.Related(null), FltInstanceQueryTeardownFlags.None);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ReportFault(instance.Registered, null, e, "exception in the instance query teardown callback");
            return NtStatus.STATUS_FLT_DO_NOT_DETACH;
        }
        if (!status.IsSuccess) return status;
        TearDown(instance, FltInstanceTeardownFlags.FLTFL_INSTANCE_TEARDOWN_MANUAL);
        return NtStatus.STATUS_SUCCESS;
    }

    public IReadOnlyList<FltInstance> InstancesOf(FltFilter filter)
    {
        VolumeFrame[] frames;
        lock (_lock) frames = [.. _frames.Values];
        return [.. frames.SelectMany(f => f.Instances).Where(i => ReferenceEquals(i.Filter, filter))];
    }

    /// <summary>The instances on a volume device, highest altitude first (for kbridge and the tests' state queries).</summary>
    public IReadOnlyList<FltInstance> InstancesOn(DeviceObject volume)
    {
        lock (_lock) return _frames.TryGetValue(volume, out var frame) ? frame.Instances : [];
    }

    // ---- The frame ----

    private NtStatus Dispatch(DeviceObject device, Irp irp)
    {
        if (device.DeviceExtension is Ports.FltMgrMsgDriver messages) return messages.Dispatch(device, irp);
        var frame = (VolumeFrame)device.DeviceExtension!;
        var stack = Ddk.Io.GetCurrentIrpStackLocation(irp);
        var instances = frame.Instances;
        var start = 0;
        // FltReadFile and friends start below the instance that issued them.
        if (irp.DriverContext[0] is FilterInstance issuer)
        {
            irp.DriverContext[0] = null;
            var index = Array.IndexOf(instances, issuer);
            start = index < 0 ? instances.Length : index + 1;
        }
        if (start >= instances.Length)
        {
            Ddk.Io.SkipCurrentIrpStackLocation(irp);
            return io.CallDriver(frame.Lower, irp);
        }
        return new FilterOperation(this, frame, irp, stack, instances, start).Dispatch();
    }

    /// <summary>A file object closed through the frame: the contexts that leave with it are cleaned up.</summary>
    public void Closed(VolumeFrame frame, FileObject file)
    {
        var released = new List<ReleasedContext>();
        frame.Contexts.Closed(file, released);
        foreach (var context in released) context.RunCleanup();
    }

    // ---- Volumes and instances ----

    private static bool IsVolume(DeviceObject device) =>
        device.DeviceType is DeviceType.FILE_DEVICE_DISK_FILE_SYSTEM or DeviceType.FILE_DEVICE_NETWORK_FILE_SYSTEM && device.Name is not null;

    private IEnumerable<DeviceObject> Volumes() =>
        loader.Drivers.Select(d => d.Driver).Where(d => !ReferenceEquals(d, _driver)).SelectMany(d => d.Devices).Where(IsVolume);

    private void OnDriverLoaded(DriverObject driver)
    {
        if (ReferenceEquals(driver, _driver)) return;
        RegisteredFilter[] started;
        lock (_lock) started = [.. _filters.Where(f => f.Started && !f.Unregistering)];
        foreach (var volume in driver.Devices.Where(IsVolume))
            foreach (var filter in started) Offer(filter, volume, FltInstanceSetupFlags.FLTFL_INSTANCE_SETUP_NEWLY_MOUNTED_VOLUME, out _);
    }

    /// <summary>Before a driver unloads: its filters are unregistered and its volumes dismounted from the frame.</summary>
    private void OnDriverUnloading(DriverObject driver)
    {
        RegisteredFilter[] filters;
        lock (_lock) filters = [.. _filters.Where(f => ReferenceEquals(f.DriverObject, driver))];
        foreach (var filter in filters) UnregisterFilter(filter);
        foreach (var volume in driver.Devices.Where(IsVolume)) Dismount(volume);
    }

    private NtStatus Offer(RegisteredFilter filter, DeviceObject volume, FltInstanceSetupFlags flags, out FilterInstance? attached)
    {
        attached = null;
        var frame = FrameFor(volume);
        if (frame is null) return NtStatus.STATUS_INSUFFICIENT_RESOURCES;
        // Two instances at one altitude cannot share a volume; the filter is not even asked.
        if (frame.Instances.Any(i => i.Registered.AltitudeValue == filter.AltitudeValue)) return Declined(filter, frame, NtStatus.STATUS_FLT_INSTANCE_ALTITUDE_COLLISION);
        var instance = new FilterInstance(filter, frame.Volume, frame);
        NtStatus status;
        try
        {
            using var scope = KernelRuntime.Enter(Runtime);
            status = filter.Registration.InstanceSetupCallback?.Invoke(instance.Related(null), flags, volume.DeviceType) ?? NtStatus.STATUS_SUCCESS;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ReportFault(filter, null, e, "exception in the instance setup callback");
            return NtStatus.STATUS_FLT_DO_NOT_ATTACH;
        }
        if (!status.IsSuccess) return Declined(filter, frame, status);
        status = frame.Add(instance);
        if (!status.IsSuccess) return Declined(filter, frame, status);
        LogAttached(filter.DriverObject.DriverName, frame.Volume.Name, filter.Altitude);
        attached = instance;
        return NtStatus.STATUS_SUCCESS;
    }

    private NtStatus Declined(RegisteredFilter filter, VolumeFrame frame, NtStatus status)
    {
        LogDeclined(filter.DriverObject.DriverName, frame.Volume.Name, status.ToString());
        return status;
    }

    /// <summary>The frame on a volume, attached the first time a filter is offered the volume.</summary>
    private VolumeFrame? FrameFor(DeviceObject volume)
    {
        lock (_lock)
        {
            if (_frames.TryGetValue(volume, out var existing)) return existing;
            var status = io.CreateDevice(_driver!, null, null, volume.DeviceType, DeviceCharacteristics.None, false, out var device);
            if (!status.IsSuccess) return null;
            var frame = new VolumeFrame(this, new FltVolume(volume), device!);
            device!.DeviceExtension = frame;
            device.Flags = (device.Flags & ~DeviceFlags.DO_DEVICE_INITIALIZING) | (volume.Flags & (DeviceFlags.DO_BUFFERED_IO | DeviceFlags.DO_DIRECT_IO));
            var lower = io.AttachDeviceToDeviceStack(device, volume);
            if (lower is null)
            {
                io.DeleteDevice(device);
                return null;
            }
            frame.Lower = lower;
            _frames[volume] = frame;
            return frame;
        }
    }

    private void Dismount(DeviceObject volume)
    {
        VolumeFrame? frame;
        lock (_lock)
        {
            if (!_frames.Remove(volume, out frame)) return;
        }
        foreach (var instance in frame.Instances) TearDown(instance, FltInstanceTeardownFlags.FLTFL_INSTANCE_TEARDOWN_VOLUME_DISMOUNT);
        io.DetachDevice(frame.Lower);
        io.DeleteDevice(frame.Device);
    }

    /// <summary>Teardown start, the instance leaves the frame, its contexts are cleaned up, teardown complete.</summary>
    private void TearDown(FilterInstance instance, FltInstanceTeardownFlags reason)
    {
        instance.TearingDown = true;
        var registration = instance.Registered.Registration;
        var related = instance.Related(null);
        using var scope = KernelRuntime.Enter(Runtime);
        Call(instance, () => registration.InstanceTeardownStartCallback?.Invoke(related, reason), "instance teardown start");
        instance.Frame.Remove(instance);
        var released = new List<ReleasedContext>();
        instance.Frame.Contexts.RemoveInstance(instance, released);
        foreach (var context in released) context.RunCleanup();
        Call(instance, () => registration.InstanceTeardownCompleteCallback?.Invoke(related, reason), "instance teardown complete");
        LogDetached(instance.Registered.DriverObject.DriverName, instance.Volume.Name, reason.ToString());
    }

    private void Call(FilterInstance instance, Action callback, string what)
    {
        try
        {
            callback();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ReportFault(instance.Registered, null, e, $"exception in the {what} callback");
        }
    }

    // ---- Faults ----

    /// <summary>A minifilter threw: a bug-check report, and its driver is never called again (its instances are skipped).</summary>
    public void ReportFault(RegisteredFilter filter, Irp? irp, Exception e, string detail)
    {
        filter.DriverObject.Faulted = true;
        io.BugCheck.Report(BugCheckCode.KMODE_EXCEPTION_NOT_HANDLED, filter.DriverObject, irp, detail, e);
    }

    public void ReportMisuse(RegisteredFilter filter, string problem) => LogMisuse(filter.DriverObject.DriverName, problem);

    [LoggerMessage(EventId = 530, Level = LogLevel.Information, Message = "minifilter {Driver} registered at altitude {Altitude}")]
    private partial void LogRegistered(string driver, string altitude);

    [LoggerMessage(EventId = 531, Level = LogLevel.Information, Message = "minifilter {Driver} attached to {Volume} at altitude {Altitude}")]
    private partial void LogAttached(string driver, string volume, string altitude);

    [LoggerMessage(EventId = 532, Level = LogLevel.Information, Message = "minifilter {Driver} did not attach to {Volume}: {Status}")]
    private partial void LogDeclined(string driver, string volume, string status);

    [LoggerMessage(EventId = 533, Level = LogLevel.Information, Message = "minifilter {Driver} detached from {Volume} ({Reason})")]
    private partial void LogDetached(string driver, string volume, string reason);

    [LoggerMessage(EventId = 534, Level = LogLevel.Information, Message = "minifilter {Driver} unregistered")]
    private partial void LogUnregistered(string driver);

    [LoggerMessage(EventId = 535, Level = LogLevel.Warning, Message = "filter verifier: {Driver}: {Problem}")]
    private partial void LogMisuse(string driver, string problem);
}
