using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>DEVICE_OBJECT: something a driver serves, reachable by name and stackable.</summary>
public sealed class DeviceObject : KernelObject
{
    internal DeviceObject(DriverObject driver, DeviceType deviceType, DeviceCharacteristics characteristics, bool exclusive, object? extension)
        : base(ObjectTypes.Device)
    {
        DriverObject = driver;
        DeviceType = deviceType;
        Characteristics = characteristics;
        DeviceExtension = extension;
        Flags = DeviceFlags.DO_DEVICE_INITIALIZING | (exclusive ? DeviceFlags.DO_EXCLUSIVE : DeviceFlags.None);
        StackSize = 1;
    }

    public DriverObject DriverObject { get; }
    public DeviceType DeviceType { get; }
    public DeviceCharacteristics Characteristics { get; set; }

    /// <summary>DO_BUFFERED_IO / DO_DIRECT_IO decide how reads and writes reach the driver.</summary>
    public DeviceFlags Flags { get; set; }

    /// <summary>The driver's per-device state.</summary>
    public object? DeviceExtension { get; set; }

    /// <summary>The device's extension, typed.</summary>
    public T Extension<T>() where T : class =>
        DeviceExtension as T ?? throw new InvalidOperationException($"device extension is {DeviceExtension?.GetType().Name ?? "null"}, not {typeof(T).Name}");

    /// <summary>The device attached directly above this one, if any.</summary>
    public DeviceObject? AttachedDevice { get; internal set; }

    /// <summary>The device this one is attached to (DEVOBJ_EXTENSION->AttachedTo).</summary>
    public DeviceObject? AttachedTo { get; internal set; }

    /// <summary>How many stack locations an IRP for this device needs (one per device in the stack below, plus one).</summary>
    public int StackSize { get; internal set; }

    /// <summary>The driver's next device (DeviceObject->NextDevice).</summary>
    public DeviceObject? NextDevice => DriverObject.NextDeviceAfter(this);

    public bool Exclusive => (Flags & DeviceFlags.DO_EXCLUSIVE) != 0;

    /// <summary>The device's full name (\Device\Echo), or null for an unnamed device.</summary>
    public string? Name { get; internal set; }

    /// <summary>Open file objects on this device (DeviceObject->ReferenceCount).</summary>
    public int ReferenceCount => Volatile.Read(ref OpenCount);

    internal int OpenCount;
    internal bool DeletePending;
}
