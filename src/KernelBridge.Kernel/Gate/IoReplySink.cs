using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// The socket gate's side of an I/O outcome: an <see cref="IoTransferReply"/> telling the client
/// what to write into its own memory — in the call's Return frame, or, for the later completion of
/// a request that pended, in a Notify frame. One per connection; the tag is the call's sequence and service.
/// </summary>
internal sealed class IoReplySink(ClientConnection connection) : IIoCompletionTarget
{
    public static ulong TagOf(uint sequence, Syscall number) => sequence | (ulong)number << 32;

    public void Complete(ulong tag, in IoOutcome outcome)
    {
        var flags = IoReplyFlags.None;
        if (outcome.IosbWritten) flags |= IoReplyFlags.IosbWritten;
        if (outcome.OutputWritten) flags |= IoReplyFlags.OutputWritten;
        if (outcome.Kind == IoOutcomeKind.Pending) flags |= IoReplyFlags.CompletionFollows;
        var iosb = outcome.IosbWritten ? new IoStatusWire(outcome.IosbStatus.Value, 0, outcome.Information) : default;
        var output = outcome.OutputWritten ? outcome.Output : default;
        var reply = new IoTransferReply(iosb, flags, (uint)output.Length);
        var sequence = (uint)tag;
        if (outcome.Kind == IoOutcomeKind.Completion) connection.SendNotify(NotificationKind.IoCompletion, sequence, in reply, output);
        else connection.SendReturn(sequence, (Syscall)(tag >> 32), outcome.Status, in reply, output, default);
    }
}
