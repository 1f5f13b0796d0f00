using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Services;

/// <summary>The connect's continuation: a connection the callback accepted gets its port handle (a file handle).</summary>
internal sealed class FltConnectCall(IoManager io, ObjectManager ob, ReplyTarget reply, ProcessObject process, IoFileObject file,
    HandleAttributes attributes) : IIoCompletionTarget
{
    public void Complete(ulong tag, in IoOutcome outcome)
    {
        var final = outcome.Status;
        if (outcome.Kind == IoOutcomeKind.Answer && final.IsSuccess)
        {
            // If the process is going away, the connection was made all the same: its CLEANUP ends it (the disconnect callback runs).
            var status = OpenedFile.MakeHandle(io, ob, process, file, attributes, out var handle);
            if (status.IsSuccess)
            {
                reply.Send(NtStatus.STATUS_SUCCESS, new HandleReply(handle));
                return;
            }
            final = status;
        }
        reply.Send(final, new HandleReply(0));
    }
}
