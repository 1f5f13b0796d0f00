using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Ob;

/// <summary>
/// An object type's behaviour (OBJECT_TYPE_INITIALIZER's procedures). Every method has a safe
/// default, so a type overrides only what it does differently.
/// </summary>
internal abstract class ObjectTypeProcedures
{
    /// <summary>A handle to the object was closed; <paramref name="handleCount"/> is how many remain system-wide.</summary>
    public virtual void Close(KernelObject obj, ProcessObject process, int handleCount) { }

    /// <summary>
    /// Closing the object's last handle must wait (a synchronous file's I/O in progress): queue
    /// <paramref name="close"/> and return true; false to close now.
    /// </summary>
    public virtual bool DeferLastClose(KernelObject obj, Action close) => false;

    /// <summary>The last reference went: release what the object holds.</summary>
    public virtual void Delete(KernelObject obj) { }

    /// <summary>Named objects of this type leave the namespace when their last handle closes (unless permanent).</summary>
    public virtual bool TemporaryWhenUnnamedHandles => true;

    public static readonly ObjectTypeProcedures Default = new DefaultProcedures();

    private sealed class DefaultProcedures : ObjectTypeProcedures;
}
