using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Io;

/// <summary>
/// The File type's procedures: the last handle closing sends IRP_MJ_CLEANUP (in the closing
/// process's context); the last reference going sends IRP_MJ_CLOSE. A file whose create failed
/// gets neither.
/// </summary>
internal sealed class FileObjectProcedures(IoManager io) : ObjectTypeProcedures
{
    public override void Close(KernelObject obj, ProcessObject process, int handleCount)
    {
        var file = (IoFileObject)obj;
        if (handleCount != 0 || !file.Opened) return;
        io.SendHousekeepingIrp(file, IrpMajorFunction.IRP_MJ_CLEANUP, process);
        file.Flags |= FileObjectFlags.FO_CLEANUP_COMPLETE;
    }

    /// <summary>IopCloseFile takes the file object lock: the last handle of a synchronous file closes after its I/O.</summary>
    public override bool DeferLastClose(KernelObject obj, Action close)
    {
        var file = (IoFileObject)obj;
        return (file.Flags & FileObjectFlags.FO_SYNCHRONOUS_IO) != 0 && file.WhenIdle(close);
    }

    public override void Delete(KernelObject obj)
    {
        var file = (IoFileObject)obj;
        if (file.Opened) io.SendHousekeepingIrp(file, IrpMajorFunction.IRP_MJ_CLOSE, null);
        Interlocked.Decrement(ref file.DeviceObject.OpenCount);
        io.ObjectManager.Dereference(file.DeviceObject);
        if (file.Port is { } port) io.ObjectManager.Dereference(port);
    }
}

/// <summary>The Device type's procedures: a device's name is its own.</summary>
internal sealed class DeviceObjectProcedures : ObjectTypeProcedures
{
    public override bool TemporaryWhenUnnamedHandles => false;
}

/// <summary>The IoCompletion type's procedures: when the last handle closes, waiters are abandoned.</summary>
internal sealed class IoCompletionProcedures(Ke.Dispatcher dispatcher) : ObjectTypeProcedures
{
    public override void Close(KernelObject obj, ProcessObject process, int handleCount)
    {
        if (handleCount == 0) dispatcher.CloseQueue((KQueue)obj);
    }
}
