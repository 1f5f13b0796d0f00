namespace KernelBridge.Kernel.Ob;

/// <summary>What one kernel keeps per object type: its procedures and how many objects and handles of it exist.</summary>
internal sealed class ObjectTypeInfo(ObjectType type)
{
    public ObjectType Type { get; } = type;
    public ObjectTypeProcedures Procedures = ObjectTypeProcedures.Default;
    public int Objects;
    public int Handles;

    public int ObjectCount => Volatile.Read(ref Objects);
    public int HandleCount => Volatile.Read(ref Handles);
}
