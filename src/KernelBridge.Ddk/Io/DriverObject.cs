using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>DRIVER_OBJECT: one per loaded driver, named \Driver\&lt;service&gt;.</summary>
public sealed class DriverObject : KernelObject
{
    private readonly List<DeviceObject> _devices = [];

    internal DriverObject(string serviceName, string registryPath) : base(ObjectTypes.Driver)
    {
        ServiceKeyName = serviceName;
        RegistryPath = registryPath;
    }

    /// <summary>\Driver\&lt;service&gt;.</summary>
    public string DriverName => @"\Driver\" + ServiceKeyName;

    /// <summary>DriverExtension->ServiceKeyName.</summary>
    public string ServiceKeyName { get; }

    public string RegistryPath { get; }

    /// <summary>
    /// The dispatch table, indexed by <see cref="IrpMajorFunction"/>. An empty slot answers
    /// STATUS_INVALID_DEVICE_REQUEST, as IopInvalidDeviceRequest does.
    /// </summary>
    public DriverDispatch?[] MajorFunction { get; } = new DriverDispatch?[(int)IrpMajorFunction.IRP_MJ_MAXIMUM_FUNCTION + 1];

    public DriverUnload? DriverUnload { get; set; }

    /// <summary>Whatever the driver wants to keep for itself.</summary>
    public object? DriverExtension { get; set; }

    /// <summary>The driver's devices, newest first (DriverObject->DeviceObject and NextDevice).</summary>
    public DeviceObject? DeviceObject
    {
        get
        {
            lock (_devices) return _devices.Count == 0 ? null : _devices[^1];
        }
    }

    public IReadOnlyList<DeviceObject> Devices
    {
        get
        {
            lock (_devices) return [.. _devices];
        }
    }

    internal void AddDevice(DeviceObject device)
    {
        lock (_devices) _devices.Add(device);
    }

    internal bool RemoveDevice(DeviceObject device)
    {
        lock (_devices) return _devices.Remove(device);
    }

    internal DeviceObject? NextDeviceAfter(DeviceObject device)
    {
        lock (_devices)
        {
            var index = _devices.IndexOf(device);
            return index > 0 ? _devices[index - 1] : null;
        }
    }

    /// <summary>Set by the kernel when one of the driver's routines threw: its requests fail from then on.</summary>
    public bool Faulted { get; internal set; }

    /// <summary>Set by the kernel at load when the driver verifier covers this driver.</summary>
    public bool Verified { get; internal set; }
}
