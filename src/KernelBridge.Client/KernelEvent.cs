using KernelBridge.Abi;
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
        var status = Ntdll.NtCreateEvent(gate, &handle, AccessMask.EVENT_ALL_ACCESS,
            new ObjectAttributes(Kernel32.NamedObjectPath(name), name is null ? 0 : ObjectAttributeFlags.OBJ_OPENIF),
            manualReset ? EventType.NotificationEvent : EventType.SynchronizationEvent, initialState);
        if (status.IsError) throw new NtStatusException(status, $"creating event {name}");
        return new KernelEvent(new KernelHandle(handle, gate));
    }

    /// <summary>OpenEvent on \BaseNamedObjects\NAME.</summary>
    public static unsafe KernelEvent Open(string name, uint desiredAccess = AccessMask.EVENT_ALL_ACCESS, GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        nint handle;
        var status = Ntdll.NtOpenEvent(gate, &handle, desiredAccess, new ObjectAttributes(Kernel32.NamedObjectPath(name), 0));
        if (status.IsError) throw new NtStatusException(status, $"opening event {name}");
        return new KernelEvent(new KernelHandle(handle, gate));
    }

    /// <summary>Signals; returns the previous state.</summary>
    public unsafe bool Set()
    {
        int previous;
        NtStatusException.ThrowIfError(Ntdll.NtSetEvent(Handle.Gate, Handle.Value, &previous), "SetEvent");
        return previous != 0;
    }

    public unsafe bool Reset()
    {
        int previous;
        NtStatusException.ThrowIfError(Ntdll.NtResetEvent(Handle.Gate, Handle.Value, &previous), "ResetEvent");
        return previous != 0;
    }

    public unsafe bool Pulse()
    {
        int previous;
        NtStatusException.ThrowIfError(Ntdll.NtPulseEvent(Handle.Gate, Handle.Value, &previous), "PulseEvent");
        return previous != 0;
    }

    /// <summary>Waits (blocking this thread) up to <paramref name="timeout"/>; false on timeout.</summary>
    public unsafe bool Wait(TimeSpan? timeout = null)
    {
        long value = timeout is { } t ? -t.Ticks : 0;
        var status = Ntdll.NtWaitForSingleObject(Handle.Gate, Handle.Value, false, timeout is null ? null : &value);
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
        var deadline = timeout is { } t ? DateTime.UtcNow + t : (DateTime?)null;
        while (true)
        {
            var left = deadline is { } d ? d - DateTime.UtcNow : (TimeSpan?)null;
            if (left is { } l && l < TimeSpan.Zero) left = TimeSpan.Zero;
            var status = await Ntdll.NtWaitForSingleObjectAsync(Handle.Gate, Handle.Value, left is { } remaining ? -remaining.Ticks : null,
                cancellationToken).ConfigureAwait(false);
            if (status == NtStatus.STATUS_THREAD_IS_TERMINATING && Handle.Gate.IsConnected) continue;
            if (status == NtStatus.STATUS_CANCELLED) throw new OperationCanceledException(cancellationToken);
            NtStatusException.ThrowIfError(status, "waiting for an event");
            return status != NtStatus.STATUS_TIMEOUT;
        }
    }

    public void Dispose() => Handle.Dispose();
}
