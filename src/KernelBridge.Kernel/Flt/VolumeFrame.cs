namespace KernelBridge.Kernel.Flt;

/// <summary>
/// The filter manager's frame on one volume: its device, attached on top of the file system's
/// volume device, and the instances attached to the volume, highest altitude first.
/// </summary>
internal sealed class VolumeFrame(FilterManager manager, FltVolume volume, DeviceObject device)
{
    private readonly object _lock = new();
    private FilterInstance[] _instances = [];

    public FltVolume Volume { get; } = volume;

    /// <summary>The filter manager's device on this volume's stack.</summary>
    public DeviceObject Device { get; } = device;

    /// <summary>The device the frame attached to (what it passes operations down to).</summary>
    public DeviceObject Lower { get; set; } = null!;

    public ContextTable Contexts { get; } = new();

    /// <summary>The instances as of now, highest altitude first (replaced, never changed, so an operation can walk its snapshot).</summary>
    public FilterInstance[] Instances => Volatile.Read(ref _instances);

    /// <summary>Adds an instance at its altitude; two instances at one altitude on one volume collide, as on Windows.</summary>
    public NtStatus Add(FilterInstance instance)
    {
        lock (_lock)
        {
            foreach (var existing in _instances)
            {
                if (existing.Registered.AltitudeValue == instance.Registered.AltitudeValue) return NtStatus.STATUS_FLT_INSTANCE_ALTITUDE_COLLISION;
            }
            FilterInstance[] updated = [.. _instances, instance];
            Array.Sort(updated, (a, b) => b.Registered.AltitudeValue.CompareTo(a.Registered.AltitudeValue));
            Volatile.Write(ref _instances, updated);
            return NtStatus.STATUS_SUCCESS;
        }
    }

    public void Remove(FilterInstance instance)
    {
        lock (_lock) Volatile.Write(ref _instances, [.. _instances.Where(i => !ReferenceEquals(i, instance))]);
    }

    public void ReportFault(FilterInstance instance, Exception e, string detail) => manager.ReportFault(instance.Registered, null, e, detail);
}
