namespace KernelBridge.Cli.Fuzz;

/// <summary>What the fuzz run has done so far; every field is bumped with Interlocked by the workers and the checker.</summary>
internal sealed class FuzzCounters
{
    /// <summary>Frames (or ring records) sent to the kernel by the fuzz workers.</summary>
    public long Executions;

    /// <summary>Fuzz connections opened (each one a client process of the kernel's, run down when it goes).</summary>
    public long Connections;

    /// <summary>Fuzz connections the kernel hung up on before the worker did (a protocol violation, as specified).</summary>
    public long KernelHangUps;

    /// <summary>Connections that asked for the shared-memory gate, and how many of their rings were scribbled on.</summary>
    public long RingSessions;
    public long RingsCorrupted;

    /// <summary>Connects that failed (the kernel's connection cap, or a kernel that is gone).</summary>
    public long ConnectFailures;

    /// <summary>The checker's normal calls, and those that did not give the expected answer.</summary>
    public long CheckerCalls;
    public long CheckerErrors;

    /// <summary>Times the kernel process died (its pid vanished), and times a different kernel was found serving the instance.</summary>
    public long KernelDeaths;
    public long KernelRestarts;

    public string? LastCheckerError;

    public void CheckerFailed(string what)
    {
        Interlocked.Increment(ref CheckerErrors);
        Volatile.Write(ref LastCheckerError, what);
    }
}
