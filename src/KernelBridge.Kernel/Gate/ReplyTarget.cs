using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// Where a call's result goes: the client's connection and the call's sequence number. A value,
/// so a pending call can keep it without allocating; send exactly once.
/// </summary>
internal readonly struct ReplyTarget(ClientConnection connection, uint sequence, Syscall number)
{
    public ClientConnection Connection => connection;
    public uint Sequence => sequence;
    public Syscall Number => number;
    public bool IsValid => connection is not null;

    public bool Send<T>(NtStatus status, in T reply, ReadOnlySpan<byte> data1 = default, ReadOnlySpan<byte> data2 = default) where T : unmanaged =>
        connection.SendReturn(sequence, number, status, in reply, data1, data2);

    public bool Send(NtStatus status) => connection.SendReturn(sequence, number, status, new EmptyReply(0), default, default);
}
