namespace KernelBridge.Ddk;

/// <summary>PFLT_VOLUME: a file-system volume the filter manager filters (a device of a file-system type).</summary>
public class FltVolume
{
    internal FltVolume(DeviceObject device) => DeviceObject = device;

    /// <summary>The file system's volume device (the bottom of the stack).</summary>
    public DeviceObject DeviceObject { get; }

    /// <summary>The volume's name, as FltGetVolumeName gives it (\Device\RamFs).</summary>
    public string Name => DeviceObject.Name ?? "";

    public override string ToString() => $"volume {Name}";
}
