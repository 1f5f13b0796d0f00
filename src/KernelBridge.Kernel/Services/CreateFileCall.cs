using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// NtCreateFile's continuation: when IRP_MJ_CREATE has come back, a file the driver accepted gets
/// its handle here (or, if the process is going, its CLEANUP), and the caller its answer.
/// </summary>
internal sealed class CreateFileCall(IoManager io, ObjectManager ob, ReplyTarget reply, ProcessObject process, IoFileObject file,
    HandleAttributes attributes) : IIoCompletionTarget
{
    public void Complete(ulong tag, in IoOutcome outcome)
    {
        var final = outcome.Status;
        if (outcome.Kind == IoOutcomeKind.Answer && final.IsSuccess)
        {
            var status = OpenedFile.MakeHandle(io, ob, process, file, attributes, out var handle);
            if (status.IsSuccess)
            {
                var iosb = new IoStatusWire(outcome.IosbStatus, 0, outcome.Information);
                reply.Send(final, new NtCreateFileReply(handle, iosb, IoReplyFlags.IosbWritten, (uint)io.GetAttachedDevice(file.DeviceObject).Flags));
                return;
            }
            final = status;
        }
        reply.Send(final, new NtCreateFileReply(0, default, IoReplyFlags.None, 0));
    }
}
