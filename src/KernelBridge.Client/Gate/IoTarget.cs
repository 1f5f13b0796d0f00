using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Gate;

/// <summary>
/// The caller's memory an I/O call may write: its IOSB and output buffer. The reader thread
/// writes them as the kernel instructs, before anyone in this process can see the completion
/// (the result frame, or a later completion notice, is handled in arrival order).
/// </summary>
internal readonly unsafe struct IoTarget(IO_STATUS_BLOCK* ioStatusBlock, void* buffer, uint length, Action<NtStatus>? completed = null)
{
    public IO_STATUS_BLOCK* IoStatusBlock { get; } = ioStatusBlock;

    /// <summary>Runs on the reader thread after a pended request's completion has been written (the idiomatic layer's hook).</summary>
    public Action<NtStatus>? Completed { get; } = completed;

    /// <summary>Writes the output bytes, then the IOSB (Information before Status: pollers look at Status).</summary>
    public void Apply(in IoTransferReply reply, ReadOnlySpan<byte> data)
    {
        if ((reply.Flags & IoReplyFlags.OutputWritten) != 0 && buffer is not null)
        {
            var count = (int)Math.Min(Math.Min(reply.DataBytes, (uint)data.Length), length);
            data[..count].CopyTo(new Span<byte>(buffer, count));
        }
        if ((reply.Flags & IoReplyFlags.IosbWritten) != 0 && IoStatusBlock is not null)
        {
            IoStatusBlock->Information = (nuint)reply.IoStatus.Information;
            Volatile.Write(ref IoStatusBlock->Status, reply.IoStatus.Status);
        }
    }
}
