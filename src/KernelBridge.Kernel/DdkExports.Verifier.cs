namespace KernelBridge.Kernel;

internal sealed partial class DdkExports
{
    public void IrpUsedAfterCompletion(Irp irp, string routine) => io.IrpUsedAfterCompletion(irp, routine);
}
