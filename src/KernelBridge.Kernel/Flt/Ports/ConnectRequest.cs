namespace KernelBridge.Kernel.Flt.Ports;

/// <summary>
/// What a connect carries to FltMgrMsg's IRP_MJ_CREATE (as FltLib's extended attribute does on
/// Windows): the connection context. The port's name is the file name.
/// </summary>
internal sealed class ConnectRequest(byte[] context)
{
    public byte[] Context { get; } = context;
}
