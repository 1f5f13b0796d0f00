using System.Diagnostics;
using System.Globalization;
using KernelBridge.Kernel.Ex;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;
using KernelBridge.Kernel.Services;
using KernelBridge.Platform;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel;

/// <summary>Why <see cref="KernelHost.RunAsync"/> returned.</summary>
public enum KernelExit
{
    /// <summary>Stopped on request, or idle with no clients.</summary>
    Stopped = 0,
    /// <summary>Another kernel already serves this instance.</summary>
    AlreadyRunning = 3,
    /// <summary>A bug check under the Halt policy.</summary>
    BugCheck = 4,
}

/// <summary>
/// The kernel host: boots the executive (object manager, processes, I/O manager, drivers), opens
/// the gate in the instance directory and serves until stopped, idle, or halted by a bug check.
/// One per instance (an flock on kernel.lock decides) and one per process (the Ddk has one kernel).
/// </summary>
public sealed partial class KernelHost : IDisposable
{
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<KernelExit> _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _uptime = Stopwatch.StartNew();
    private GateListener? _gate;
    private Timer? _idleTimer;

    internal KernelHost(KernelOptions options, InstanceDirectory instance, ILoggerFactory loggerFactory)
    {
        Options = options;
        Instance = instance;
        _logger = loggerFactory.CreateLogger("KernelBridge.Kernel");
        BugCheck = new BugCheck(instance.BugCheckDirectory, options.FaultPolicy, _logger,
            reason => _stop.TrySetResult(KernelExit.BugCheck));
        ObjectManager = new ObjectManager();
        Dispatcher = new Ke.Dispatcher();
        Processes = new ProcessManager(ObjectManager, Dispatcher, _logger) { QuotaLimits = options.Quotas };
        IoManager = new IoManager(ObjectManager, Dispatcher, BugCheck, _logger)
        {
            BufferPool = TransferBufferPool.Shared,
            Verifier = new DriverVerifier(options.VerifiedDrivers, options.UnverifiedDrivers, options.VerifierCancelTimeout),
        };
        Processes.ProcessTerminating += IoManager.CancelProcessIo;
        Processes.ThreadTerminating += IoManager.CancelThreadIo;
        MemoryManager = new Mm.MemoryManager(ObjectManager, _logger, options.MaxSectionSize);
        Processes.AddressSpaceDeleted += MemoryManager.Rundown;
        DriverLoader = new DriverLoader(IoManager, ObjectManager, _logger);
        User = new Win32k.UserSubsystem(Dispatcher) { PostMessageLimit = options.Quotas.MaxPostedMessages };
        Processes.ProcessTerminating += User.ProcessTerminating;
        Processes.ThreadTerminating += User.ThreadTerminating;
        Services = new ServiceTable(new SystemServices(this), _logger, options.Trace);
        Filters = new Flt.FilterManager(IoManager, DriverLoader, _logger);
        var exports = new DdkExports(IoManager, ObjectManager, Dispatcher, MemoryManager, Processes) { Filters = Filters };
        ObjectManager.Runtime = exports;
        IoManager.Runtime = exports;
        Dispatcher.Runtime = exports;
        // The filter manager is part of the kernel: loaded with it, before any driver it may filter.
        var loaded = DriverLoader.LoadBuiltIn(Flt.FilterManager.ServiceName, Filters.DriverEntry);
        if (!loaded.IsSuccess) throw new InvalidOperationException($"the filter manager did not load: {loaded}");
    }

    public KernelOptions Options { get; }
    public InstanceDirectory Instance { get; }
    internal BugCheck BugCheck { get; }
    internal ObjectManager ObjectManager { get; }
    internal Ke.Dispatcher Dispatcher { get; }
    internal ProcessManager Processes { get; }
    internal IoManager IoManager { get; }
    internal Mm.MemoryManager MemoryManager { get; }
    internal DriverLoader DriverLoader { get; }
    internal Flt.FilterManager Filters { get; }
    internal Win32k.UserSubsystem User { get; }
    internal ServiceTable Services { get; }
    internal TimeSpan Uptime => _uptime.Elapsed;
    internal int ClientCount => _gate?.ClientCount ?? 0;

    /// <summary>The connection cap in force (lowered at start if descriptors are short).</summary>
    internal int MaxConnections => _gate?.MaxConnections ?? Options.MaxConnections;

    /// <summary>Asks the kernel to stop; clients are disconnected and their waits fail.</summary>
    public void RequestStop(string reason)
    {
        LogStopping(reason);
        _stop.TrySetResult(KernelExit.Stopped);
    }

    /// <summary>Runs a kernel for the instance until it stops. Returns why.</summary>
    public static async Task<KernelExit> RunAsync(KernelOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        // Checked before anything exists: a bad value must not leave a half-started kernel (or its pid file) behind.
        if (options.IdleTimeout < TimeSpan.Zero || options.IdleTimeout > KernelOptions.MaxIdleTimeout)
            throw new ArgumentOutOfRangeException(nameof(options), $"the idle timeout must be 0 to {KernelOptions.MaxIdleTimeout.TotalSeconds} seconds, not {options.IdleTimeout.TotalSeconds}");
        var instance = InstanceDirectory.Open(options.Instance, create: true);
        using var kernelLock = options.LockWait > TimeSpan.Zero ? FileLock.Acquire(instance.LockPath, options.LockWait) : FileLock.TryAcquire(instance.LockPath);
        var logger = loggerFactory.CreateLogger("KernelBridge.Kernel");
        if (kernelLock is null)
        {
            LogAlreadyRunning(logger, instance.Instance);
            return KernelExit.AlreadyRunning;
        }
        using var host = new KernelHost(options, instance, loggerFactory);
        return await host.ServeAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<KernelExit> ServeAsync(CancellationToken cancellationToken)
    {
        foreach (var builtIn in Options.BuiltInDrivers)
        {
            var status = DriverLoader.LoadBuiltIn(builtIn.ServiceName, builtIn.Entry);
            if (!status.IsSuccess) LogBootDriverFailed(builtIn.ServiceName, status.ToString());
        }
        foreach (var path in Options.BootDrivers)
        {
            var status = DriverLoader.LoadAssembly(null, Path.GetFullPath(path), out var message);
            if (!status.IsSuccess) LogBootDriverFailed(path, $"{status}: {message}");
        }

        if (Options.MultiUser) Instance.OpenToOtherUsers(Options.MultiUserGroup);
        _gate = new GateListener(Instance.SocketPath, Services, Processes, Options, _logger);
        _gate.ClientCountChanged += OnClientCountChanged;
        _gate.Start();
        await File.WriteAllTextAsync(Instance.PidPath, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        LogListening(Instance.Instance, Instance.SocketPath, Environment.ProcessId, Options.Persistent);
        var accepting = _gate.AcceptLoopAsync();
        OnClientCountChanged(0);
        using var reaper = new Timer(_ => Processes.ReapExitedThreads(), null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));

        using (cancellationToken.Register(() => RequestStop("signal")))
        {
            var exit = await _stop.Task.ConfigureAwait(false);
            if (_idleTimer is not null) await _idleTimer.DisposeAsync().ConfigureAwait(false);
            await _gate.StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            await accepting.ConfigureAwait(false);
            _gate.Dispose();
            DriverLoader.UnloadAll();
            try
            {
                File.Delete(Instance.PidPath);
            }
            catch (IOException)
            {
            }
            LogStopped(exit.ToString());
            return exit;
        }
    }

    private void OnClientCountChanged(int count)
    {
        if (Options.Persistent) return;
        lock (_stop)
        {
            if (count > 0)
            {
                _idleTimer?.Change(Timeout.Infinite, Timeout.Infinite);
                return;
            }
            _idleTimer ??= new Timer(_ =>
            {
                if (ClientCount == 0) RequestStop($"no clients for {Options.IdleTimeout.TotalSeconds:0.#}s");
            });
            _idleTimer.Change(Options.IdleTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        _gate?.Dispose();
        _idleTimer?.Dispose();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "kernel for instance '{Instance}' listening on {Socket} (pid {Pid}, persistent: {Persistent})")]
    private partial void LogListening(string instance, string socket, int pid, bool persistent);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "kernel stopping: {Reason}")]
    private partial void LogStopping(string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "kernel stopped ({Exit})")]
    private partial void LogStopped(string exit);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "boot driver {Driver} failed: {Status}")]
    private partial void LogBootDriverFailed(string driver, string status);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "a kernel already serves instance '{Instance}'")]
    private static partial void LogAlreadyRunning(ILogger logger, string instance);
}
