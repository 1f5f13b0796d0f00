using System.Runtime.CompilerServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Client.Gate;

/// <summary>
/// The call path: one generic primitive per way of waiting, on which every Ntdll stub is built
/// (and generated stubs will be). Each takes a pooled <see cref="GateCall"/>, sends the request
/// with up to two trailing data parts, and waits for it or awaits it; nothing is allocated per call.
/// A connection that is gone answers STATUS_PORT_DISCONNECTED; a frame too long for the protocol,
/// STATUS_INSUFFICIENT_RESOURCES.
/// </summary>
public sealed partial class GateClient
{
    /// <summary>
    /// Makes a system call and blocks until it ends. The reply's fixed part lands in <paramref name="reply"/>;
    /// for an I/O call, <paramref name="target"/> is the caller's IOSB and output buffer, which the reader
    /// thread writes (once) before this returns.
    /// </summary>
    internal NtStatus Call<TRequest, TReply>(in TRequest request, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2,
        out TReply reply, IoTarget? target = null)
        where TRequest : unmanaged, IRequest<TReply>
        where TReply : unmanaged
    {
        var call = Connection.Send((ushort)TRequest.Number, in request, data1, data2, CallWaiter.Blocking, Unsafe.SizeOf<TReply>(), target);
        call.Wait();
        reply = call.Reply<TReply>();
        var status = call.Status;
        Connection.Calls.Release(call);
        return status;
    }

    /// <summary>As <see cref="Call{TRequest, TReply}"/>, keeping the reply's variable data for the caller to read until it disposes the answer.</summary>
    internal CallAnswer<TReply> CallWithData<TRequest, TReply>(scoped in TRequest request, scoped ReadOnlySpan<byte> data1 = default, scoped ReadOnlySpan<byte> data2 = default)
        where TRequest : unmanaged, IRequest<TReply>
        where TReply : unmanaged
    {
        var call = Connection.Send((ushort)TRequest.Number, in request, data1, data2, CallWaiter.Blocking, GateCall.KeepAll, null);
        call.Wait();
        return new CallAnswer<TReply>(call);
    }

    /// <summary>
    /// Starts an I/O call without waiting for anything: the request is submitted (on the shared-memory
    /// gate, one record in the ring) and its end — the Return if it did not pend, else the completion
    /// notice — reaches <paramref name="target"/>'s Completed hook, on whichever thread reads results.
    /// Many such calls batch: one doorbell for all, and their results come back together.
    /// </summary>
    internal void Submit<TRequest>(in TRequest request, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2, IoTarget target)
        where TRequest : unmanaged, IRequest<IoTransferReply> =>
        Connection.Send((ushort)TRequest.Number, in request, data1, data2, CallWaiter.Detached, 0, target);

    /// <summary>
    /// Makes a wait without blocking a thread: the task ends with the wait's status. Cancelling the
    /// token ends the kernel's wait (KbCancelWait names it by its sequence), which then answers STATUS_CANCELLED.
    /// </summary>
    internal ValueTask<NtStatus> WaitAsync<TRequest>(in TRequest request, ReadOnlySpan<byte> data, CancellationToken cancellationToken)
        where TRequest : unmanaged, IRequest<WaitReply>
    {
        var call = Connection.Send((ushort)TRequest.Number, in request, data, default, CallWaiter.Awaited, 0, null);
        // Registered once the wait is on its way: a cancel always reaches the kernel after the wait it names.
        call.CancelWith(CancelWait, cancellationToken);
        return new ValueTask<NtStatus>(call, call.Version);
    }

    private static readonly Action<object?> CancelWait = static state =>
    {
        var wait = (GateCall)state!;
        // Fire and forget: the canceller (perhaps the reader thread itself) must not block on the answer.
        wait.Connection.Send((ushort)Syscall.KbCancelWait, new KbCancelWaitRequest(wait.Sequence, 0), default, default, CallWaiter.Detached, 0, null);
    };
}
