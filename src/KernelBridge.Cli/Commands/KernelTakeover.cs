using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Kernel;
using KernelBridge.Platform;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// `kbridge kernel --persistent` on an instance that a kernel which is not persistent serves (one a
/// client started, or one run with an idle timeout): that kernel would go when idle, so this one
/// takes its place. It waits until the other kernel has no client but this one (nobody loses a
/// handle), takes its socket out of the way, stops it, and starts. Clients that come meanwhile find
/// the old kernel, or no socket and then this one (a client's own start of a kernel loses the
/// instance lock to it and waits for its socket). A persistent kernel is left alone.
/// </summary>
internal static partial class KernelTakeover
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>How long the socket stays out of the way for clients already in to leave, and how often we look.</summary>
    private static readonly TimeSpan DrainLimit = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a kernel may hold the instance without answering (booting, stopping) before this gives up.</summary>
    private static readonly TimeSpan AnswerLimit = TimeSpan.FromSeconds(30);

    private enum Outcome
    {
        Stopped,
        Gone,
        Persistent,
        GaveUp,
        Cancelled,
    }

    /// <summary>Runs the kernel, taking over first if need be; <see cref="KernelExit.AlreadyRunning"/> if the instance stays another kernel's.</summary>
    public static async Task<KernelExit> RunAsync(KernelOptions options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger("KernelBridge.Cli");
        var instance = InstanceDirectory.Open(options.Instance, create: true);
        var outcome = File.Exists(instance.SocketPath) ? await StopWhenIdleAsync(instance, logger, cancellationToken).ConfigureAwait(false) : Outcome.Gone;
        while (true)
        {
            switch (outcome)
            {
                case Outcome.Persistent or Outcome.GaveUp:
                    return KernelExit.AlreadyRunning;
                case Outcome.Cancelled:
                    return KernelExit.Stopped;
            }
            // A kernel just stopped may take a moment to let go of the instance lock: then wait for it (bounded).
            var wait = outcome == Outcome.Stopped ? KernelStopCommand.WaitLimit : TimeSpan.Zero;
            var exit = await KernelHost.RunAsync(options with { LockWait = wait }, loggers, cancellationToken).ConfigureAwait(false);
            if (exit != KernelExit.AlreadyRunning) return exit;
            outcome = await StopWhenIdleAsync(instance, logger, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<Outcome> StopWhenIdleAsync(InstanceDirectory instance, ILogger logger, CancellationToken cancellationToken)
    {
        var answerDeadline = DateTime.UtcNow + AnswerLimit;
        var reportedClients = -1;
        GateClient? gate = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    gate ??= KernelPresence.ConnectIfRunning(instance, out _);
                }
                catch (ProtocolMismatchException e)
                {
                    LogCannotTakeOver(logger, instance.Instance, e.Message);
                    return Outcome.GaveUp;
                }
                catch (KernelUnavailableException)
                {
                    // It refused or hung up during the handshake: treated as not answering (yet).
                }
                if (gate is null)
                {
                    // Nobody answers: a kernel is booting or going (it holds the lock), or died (the lock is free).
                    if (LockIsFree(instance)) return Outcome.Gone;
                    if (DateTime.UtcNow >= answerDeadline)
                    {
                        LogCannotTakeOver(logger, instance.Instance, $"a kernel holds the instance but nothing answers on {instance.SocketPath}");
                        return Outcome.GaveUp;
                    }
                    await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                KernelState state;
                try
                {
                    state = KernelControl.QueryState(gate);
                }
                catch (NtStatusException)
                {
                    // It went while we asked (idle, or stopped by someone): look again.
                    gate.Dispose();
                    gate = null;
                    await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (state.Persistent) return Outcome.Persistent;
                var others = state.Clients - 1;
                if (others <= 0 && await DrainAsync(instance, gate, cancellationToken).ConfigureAwait(false))
                {
                    LogStoppingIdleKernel(logger, gate.KernelProcessId, instance.Instance);
                    // The set-aside socket stays until our kernel listens (it removes it): until then the
                    // instance is between two kernels, and `kernel status` or `stop` wait for the new one.
                    KernelStopCommand.StopAndWait(gate, instance);
                    return Outcome.Stopped;
                }
                if (others != reportedClients) LogWaitingForClients(logger, instance.Instance, gate.KernelProcessId, others);
                reportedClients = others;
                await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            gate?.Dispose();
        }
        return Outcome.Cancelled;
    }

    /// <summary>
    /// Takes the idle kernel's socket out of the way (a rename: its listener is untouched), so that
    /// no client can reach it between our look and its stop; clients that come now find no socket
    /// and wait for the next kernel, as after any stop. Then looks again until the clients that got
    /// in just before (or were on their way) have left: drained (true); if one stays longer than a
    /// moment, the socket is put back (false) and we wait for it as for any other.
    /// </summary>
    private static async Task<bool> DrainAsync(InstanceDirectory instance, GateClient gate, CancellationToken cancellationToken)
    {
        var draining = DrainingPath(instance);
        try
        {
            File.Move(instance.SocketPath, draining, overwrite: true);
        }
        catch (IOException)
        {
            return false; // its socket went: it is stopping by itself
        }
        var drained = false;
        try
        {
            // No client can come in now, so the ones there (or just accepted) can only leave: give them a moment.
            var until = DateTime.UtcNow + DrainLimit;
            do
            {
                await Task.Delay(DrainPoll, cancellationToken).ConfigureAwait(false);
                drained = KernelControl.QueryState(gate).Clients <= 1;
            }
            while (!drained && DateTime.UtcNow < until);
            return drained;
        }
        catch (NtStatusException)
        {
            return false; // it went meanwhile; the caller looks again
        }
        finally
        {
            if (!drained) PutBack(draining, instance.SocketPath);
        }
    }

    private static void PutBack(string draining, string socketPath)
    {
        try
        {
            File.Move(draining, socketPath, overwrite: false);
        }
        catch (IOException)
        {
            // Only a kernel that went (and so left nothing to reach) would have let another bind the path.
        }
    }

    /// <summary>Where a takeover sets the old kernel's socket aside (the kernel's listener removes it once it listens).</summary>
    public static string DrainingPath(InstanceDirectory instance) => instance.SocketPath + KernelBridge.Abi.Protocol.WireProtocol.SetAsideSocketSuffix;

    /// <summary>True if no process holds the instance lock. Taken and let go at once: the caller starts its kernel next.</summary>
    private static bool LockIsFree(InstanceDirectory instance)
    {
        using var probe = FileLock.TryAcquire(instance.LockPath);
        return probe is not null;
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Information,
        Message = "instance '{Instance}' is served by a kernel that is not persistent (pid {Pid}); taking over once its {Clients} other clients have left")]
    private static partial void LogWaitingForClients(ILogger logger, string instance, int pid, int clients);

    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "stopping the idle kernel that is not persistent (pid {Pid}) to take over instance '{Instance}'")]
    private static partial void LogStoppingIdleKernel(ILogger logger, int pid, string instance);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "cannot take over instance '{Instance}': {Reason}")]
    private static partial void LogCannotTakeOver(ILogger logger, string instance, string reason);
}
