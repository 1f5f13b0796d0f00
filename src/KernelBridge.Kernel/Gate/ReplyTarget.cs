using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// Where a call's result goes: the client's connection and the call's sequence number. A value,
/// so a pending call can keep it without allocating; send exactly once.
/// </summary>
internal readonly struct ReplyTarget(ClientConnection connection, uint sequence, Syscall number)
{
    public uint Sequence => sequence;
    public Syscall Number => number;

    /// <summary>Where an I/O request of this call hands its outcome, and the tag it hands back.</summary>
    public IIoCompletionTarget IoSink => connection.IoSink;
    public ulong IoTag => IoReplySink.TagOf(sequence, number);

    public bool Send<T>(NtStatus status, in T reply, ReadOnlySpan<byte> data1 = default, ReadOnlySpan<byte> data2 = default) where T : unmanaged =>
        connection.SendReturn(sequence, number, status, in reply, data1, data2);

    public bool Send(NtStatus status) => connection.SendReturn(sequence, number, status, new EmptyReply(0), default, default);
}
