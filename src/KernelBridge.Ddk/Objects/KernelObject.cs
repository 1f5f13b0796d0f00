namespace KernelBridge.Ddk;

/// <summary>
/// The body of anything the object manager keeps: devices, drivers, files, events, directories.
/// Only the kernel creates objects; drivers receive them and reference them.
/// </summary>
public abstract class KernelObject
{
    internal KernelObject(ObjectType type)
    {
        ObjectType = type;
        Header.Runtime = KernelRuntime.Ambient;
    }

    public ObjectType ObjectType { get; }

    /// <summary>The object's name in the namespace (without its directory), or null if unnamed.</summary>
    public string? ObjectName => Header.Name;

    /// <summary>The object header (OBJECT_HEADER): name, directory, counts. The object manager's alone.</summary>
    internal readonly ObjectHeader Header = new();
}

/// <summary>OBJECT_HEADER: what the object manager keeps beside every body.</summary>
internal sealed class ObjectHeader
{
    public string? Name;
    public KernelObject? Directory;
    /// <summary>References, handles included (each handle holds one).</summary>
    public int PointerCount = 1;
    public int HandleCount;
    public bool Permanent;
    public bool Inserted;
    public bool Deleted;

    /// <summary>The kernel the object belongs to (where the Ddk sends calls that name it).</summary>
    public IKernelRuntime? Runtime;

    /// <summary>The security descriptor (null: none, everyone passes). Immutable; NtSetSecurityObject swaps it whole.</summary>
    public Abi.Security.SecurityDescriptor? Security;
}
