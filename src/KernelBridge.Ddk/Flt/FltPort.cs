namespace KernelBridge.Ddk;

/// <summary>
/// PFLT_PORT: a server port (made by <see cref="Flt.CreateCommunicationPort(FltFilter, out FltPort?, string, string?, object?, FltConnectNotify, FltDisconnectNotify, FltMessageNotify?, int)"/>,
/// type FilterConnectionPort) or a client port (one user connection, handed to the connect callback,
/// type FilterCommunicationPort). Opaque to drivers: they pass it back to the Flt calls.
/// </summary>
public abstract class FltPort : KernelObject
{
    private protected FltPort(ObjectType type) : base(type)
    {
    }
}
