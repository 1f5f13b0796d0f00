using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Win32k;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Win32;

/// <summary>
/// The User32 face of the message mechanism: thread message queues and message-only windows, with
/// Windows' names, return values and last errors (the thread's, shared with <see cref="Kernel32"/>).
/// The kernel keeps the queues and windows; this library keeps the window procedures and runs them
/// on the owning thread: a call that waits also answers the messages sent to its thread meanwhile.
/// The tables here are per process and assume one kernel (the thread's connection).
/// </summary>
public static unsafe partial class User32
{
    public const nint HWND_MESSAGE = (nint)WindowMessages.HWND_MESSAGE;

    /// <summary>The window procedure of each class the process registered, by name in any case.</summary>
    private static readonly ConcurrentDictionary<string, WNDPROC> Classes = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A window of this process: its procedure and owning thread.</summary>
    private sealed record WindowEntry(WNDPROC Procedure, int ThreadId);

    private static readonly ConcurrentDictionary<nint, WindowEntry> Windows = new();

    /// <summary>The sent messages this thread is running, innermost last (InSendMessage, ReplyMessage).</summary>
    [ThreadStatic] private static List<SentFrame>? _sentFrames;

    private struct SentFrame
    {
        public ulong Id;
        public bool Replied;
    }

    private static void SetLastError(Win32Error error) => Kernel32.SetLastError(error);

    private static bool Fail(NtStatus status)
    {
        Kernel32.SetLastError(StatusMapping.RtlNtStatusToDosError(status));
        return false;
    }

    /// <summary>The thread's connection, or false with the last error saying why there is none.</summary>
    private static bool TryGate([NotNullWhen(true)] out GateClient? gate)
    {
        gate = null;
        NtStatus failure;
        try
        {
            gate = GateClient.Current;
            if (gate.IsConnected) return true;
            failure = NtStatus.STATUS_PORT_DISCONNECTED;
        }
        catch (ProtocolMismatchException)
        {
            failure = NtStatus.STATUS_REVISION_MISMATCH;
        }
        catch (UnauthorizedAccessException)
        {
            failure = NtStatus.STATUS_ACCESS_DENIED;
        }
        catch (KernelUnavailableException)
        {
            failure = NtStatus.STATUS_PORT_CONNECTION_REFUSED;
        }
        gate = null;
        return Fail(failure);
    }

    /// <summary>KernelBridge's count of what the message mechanism holds (queues, windows, classes, messages, atoms).</summary>
    public static UserObjectCounts QueryUserObjectCounts(GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        var status = Syscalls.NtUserQueryState(gate, new NtUserQueryStateRequest(0), out var reply);
        NtStatusException.ThrowIfFailed(status, "NtUserQueryState");
        return new UserObjectCounts((int)reply.Queues, (int)reply.Windows, (int)reply.Classes, (int)reply.SentMessages, (int)reply.PostedMessages,
            (int)reply.Atoms);
    }
}
