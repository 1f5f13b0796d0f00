using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.TestDriver;

public sealed partial class KbTestDriver
{
    /// <summary>
    /// FileNameInformation: the name under the device, or what SET_NAME told this file object to
    /// answer (another name, a failure, later, or when released); what does not fit is cut
    /// (STATUS_BUFFER_OVERFLOW) with the full FileNameLength.
    /// </summary>
    private static NtStatus QueryInformation(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var context = ContextOf(stack);
        var state = StateOf(context.Tag);
        Interlocked.Increment(ref state.QueryInformation);
        if (stack.Parameters.QueryFile.FileInformationClass != FileInformationClass.FileNameInformation)
            return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        var (answer, name) = context.Name ?? (new NameAnswer(NtStatus.STATUS_SUCCESS, PendMode.None, 0, 0), context.Tag);
        var status = (NtStatus)answer.Status;
        long information = 0;
        if (!status.IsError)
        {
            var buffer = irp.SystemBuffer.Span[..stack.Parameters.QueryFile.Length];
            var bytes = MemoryMarshal.AsBytes(name.AsSpan());
            var nameLength = bytes.Length;
            MemoryMarshal.Write(buffer, in nameLength);
            var fits = Math.Min(bytes.Length, buffer.Length - 4) & ~1;
            bytes[..fits].CopyTo(buffer[4..]);
            if (fits < bytes.Length) status = NtStatus.STATUS_BUFFER_OVERFLOW;
            information = 4 + fits;
        }
        var request = new ReturnRequest(status, status, information, answer.Pend, answer.DelayMs, 0, 0);
        return Answer(device, irp, state, request, []);
    }
}
