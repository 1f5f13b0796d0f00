using KernelBridge.Ddk;

namespace KernelBridge.Drivers.RamFs;

/// <summary>Where an IRP's data is, whoever built it: the MDL (direct I/O), else the system buffer (buffered), else the user buffer (neither).</summary>
internal static class RamFsBuffers
{
    public static Span<byte> Of(Irp irp, int length)
    {
        var memory = irp.MdlAddress is { } mdl ? Mm.GetSystemAddressForMdlSafe(mdl)
            : !irp.SystemBuffer.IsEmpty ? irp.SystemBuffer
            : irp.UserBuffer;
        return memory.Span[..Math.Min(Math.Max(length, 0), memory.Length)];
    }
}
