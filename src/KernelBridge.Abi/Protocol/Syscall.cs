namespace KernelBridge.Abi.Protocol;

// The service numbers (enum Syscall), the service table (SyscallTable), the handler interface and
// its dispatch (ISyscallHandlers, SyscallDispatch), each message's data codec and trace formatter
// are generated from the [Syscall] declarations in this folder (src/KernelBridge.Generators).

/// <summary>A request layout; the static member binds it to its service number and reply layout.</summary>
public interface IRequest<TReply> where TReply : unmanaged
{
    static abstract Syscall Number { get; }
}

/// <summary>The reply of a service that returns nothing but its status.</summary>
public partial record struct EmptyReply(int Reserved);

/// <summary>IO_STATUS_BLOCK as it travels: the final status and Information.</summary>
public record struct IoStatusWire(int Status, int Reserved, long Information);
