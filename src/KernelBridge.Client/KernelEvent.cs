using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;

namespace KernelBridge.Client;

/// <summary>
/// A kernel event (CreateEvent / OpenEvent) that .NET code can set, reset, wait for and await.
/// Awaiting parks a wait in the kernel: no thread blocks; cancelling the token ends it.
/// </summary>
public sealed class KernelEvent : IDisposable
{
    private KernelEvent(KernelHandle handle) => Handle = handle;

    public KernelHandle Handle { get; }

    /// <summary>CreateEvent: a new event (unnamed, or under \BaseNamedObjects\NAME; opens it if it exists).</summary>
    public static unsafe KernelEvent Create(bool manualReset, bool initialState = false, string? name = null, GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        nint handle;
        NtStatus status;
        using (GateClient.Use(gate))
            status = Ntdll.NtCreateEvent(&handle, AccessMask.EVENT_ALL_ACCESS,
                new ObjectAttributes(Kernel32.NamedObjectPath(name), name is null ? 0 : ObjectAttributeFlags.OBJ_OPENIF),
                manualReset ? EventType.NotificationEvent : EventType.SynchronizationEvent, initialState);
        NtStatusException.ThrowIfError(status, $"creating event {name}");
        return new KernelEvent(new KernelHandle(handle, gate));
    }

    /// <summary>OpenEvent on \BaseNamedObjects\NAME.</summary>
    public static unsafe KernelEvent Open(string name, uint desiredAccess = AccessMask.EVENT_ALL_ACCESS, GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        nint handle;
        NtStatus status;
        using (GateClient.Use(gate))
            status = Ntdll.NtOpenEvent(&handle, desiredAccess, new ObjectAttributes(Kernel32.NamedObjectPath(name), 0));
        NtStatusException.ThrowIfError(status, $"opening event {name}");
        return new KernelEvent(new KernelHandle(handle, gate));
    }

    /// <summary>Signals; returns the previous state.</summary>
    public unsafe bool Set() => Operate(h => { int previous; var s = Ntdll.NtSetEvent(h, &previous); return (s, previous); }, "SetEvent");

    public unsafe bool Reset() => Operate(h => { int previous; var s = Ntdll.NtResetEvent(h, &previous); return (s, previous); }, "ResetEvent");

    public unsafe bool Pulse() => Operate(h => { int previous; var s = Ntdll.NtPulseEvent(h, &previous); return (s, previous); }, "PulseEvent");

    private bool Operate(Func<nint, (NtStatus, int)> operation, string name)
    {
        NtStatus status;
        int previous;
        using (GateClient.Use(Handle.Gate)) (status, previous) = operation(Handle.Value);
        NtStatusException.ThrowIfError(status, name);
        return previous != 0;
    }

    /// <summary>Waits (blocking this thread) up to <paramref name="timeout"/>; false on timeout.</summary>
    public unsafe bool Wait(TimeSpan? timeout = null)
    {
        long value = timeout is { } t ? -t.Ticks : 0;
        NtStatus status;
        using (GateClient.Use(Handle.Gate))
            status = Ntdll.NtWaitForSingleObject(Handle.Value, false, timeout is null ? null : &value);
        NtStatusException.ThrowIfError(status, "waiting for an event");
        return status != NtStatus.STATUS_TIMEOUT;
    }

    /// <summary>
    /// Waits without a thread; false on timeout; the token ends the kernel's wait
    /// (OperationCanceledException). The kernel knows waits by thread, and async code changes
    /// threads: a wait ended because its starting thread exited is simply made again, for what is left.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var gate = Handle.Gate;
        var deadline = timeout is { } t ? DateTime.UtcNow + t : (DateTime?)null;
        while (true)
        {
            var left = deadline is { } d ? d - DateTime.UtcNow : (TimeSpan?)null;
            if (left is { } l && l < TimeSpan.Zero) left = TimeSpan.Zero;
            var request = new NtWaitForSingleObjectRequest(Handle.Value, left is { } remaining ? -remaining.Ticks : 0, 0, left is null ? 0u : 1);
            var call = gate.CallAsync<NtWaitForSingleObjectRequest, WaitReply>(request, default, out var sequence);
            NtStatus status;
            await using (cancellationToken.UnsafeRegister(_ => gate.CallAsync<KbCancelWaitRequest, EmptyReply>(new KbCancelWaitRequest(sequence, 0), default, out uint _), null))
                (status, _) = await call.ConfigureAwait(false);
            if (status == NtStatus.STATUS_THREAD_IS_TERMINATING && gate.IsConnected) continue;
            if (status == NtStatus.STATUS_CANCELLED) throw new OperationCanceledException(cancellationToken);
            NtStatusException.ThrowIfError(status, "waiting for an event");
            return status != NtStatus.STATUS_TIMEOUT;
        }
    }

    public void Dispose() => Handle.Dispose();
}
