using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>FILE_OBJECT flags.</summary>
[Flags]
public enum FileObjectFlags : uint
{
    None = 0,
    FO_SYNCHRONOUS_IO = 0x00000002,
    FO_ALERTABLE_IO = 0x00000004,
    FO_HANDLE_CREATED = 0x00040000,
    FO_CLEANUP_COMPLETE = 0x00004000,
}

/// <summary>
/// FILE_OBJECT: one open instance of a device, created by each CreateFile (never by
/// DuplicateHandle). <see cref="FsContext"/> and <see cref="FsContext2"/> are the driver's.
/// Only the kernel makes file objects (its I/O manager derives its own per-file state from this class).
/// </summary>
public class FileObject : KernelObject
{
    internal FileObject(DeviceObject device, string fileName) : base(ObjectTypes.File)
    {
        DeviceObject = device;
        FileName = fileName;
    }

    /// <summary>The device the file was opened on (the bottom of the stack the name resolved to).</summary>
    public DeviceObject DeviceObject { get; }

    /// <summary>The part of the name after the device's: "" for \Device\Echo, "\foo" for \Device\Echo\foo.</summary>
    public string FileName { get; }

    /// <summary>The driver's per-open state.</summary>
    public object? FsContext { get; set; }

    /// <summary>More driver per-open state.</summary>
    public object? FsContext2 { get; set; }

    public long CurrentByteOffset { get; set; }

    public FileObjectFlags Flags { get; internal set; }

    public bool ReadAccess { get; internal set; }
    public bool WriteAccess { get; internal set; }
    public bool DeleteAccess { get; internal set; }
    public bool SharedRead { get; internal set; }
    public bool SharedWrite { get; internal set; }
    public bool SharedDelete { get; internal set; }

    /// <summary>FILE_OBJECT.Event: signalled when I/O on the file completes (what waiting on a file handle waits for).</summary>
    internal readonly KEvent Event = new(EventType.NotificationEvent, false);

    public override string ToString() => $"FileObject {DeviceObject.Name}{FileName}";
}
