using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Flt.Ports;

/// <summary>A client port's last reference lets its server port go.</summary>
internal sealed class ClientPortProcedures(ObjectManager ob) : ObjectTypeProcedures
{
    public override void Delete(KernelObject obj) => ob.Dereference(((ClientPort)obj).Server);
}
