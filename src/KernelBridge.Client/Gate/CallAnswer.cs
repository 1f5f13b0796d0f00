using KernelBridge.Abi;

namespace KernelBridge.Client.Gate;

/// <summary>
/// A finished call whose reply carries variable data: read <see cref="Data"/> before disposing, which
/// gives the call (and the memory <see cref="Data"/> points into) back to the pool.
/// </summary>
internal readonly ref struct CallAnswer<TReply>(GateCall call) where TReply : unmanaged
{
    public NtStatus Status => call.Status;

    /// <summary>The reply's fixed part.</summary>
    public TReply Reply => call.Reply<TReply>();

    /// <summary>The variable data after the fixed part.</summary>
    public ReadOnlySpan<byte> Data => call.Data<TReply>();

    public void Dispose() => call.Connection.Calls.Release(call);
}
