namespace KernelBridge.Ddk;

public static partial class Io
{
    /// <summary>
    /// A completed IRP belongs to the I/O manager: a driver that still reaches for it (a stale
    /// pointer) is told to the verifier, which reports it if it verifies that driver.
    /// </summary>
    private static void CheckNotCompleted(Irp irp, string routine)
    {
        if (Volatile.Read(ref irp.CompletedFlag) != 0) KernelRuntime.Of(irp).IrpUsedAfterCompletion(irp, routine);
    }
}
