using System.Collections.Concurrent;
using System.Net.Sockets;
using KernelBridge.Abi;
using KernelBridge.Kernel.Gate.Shared;
using KernelBridge.Kernel.Ps;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// The kernel's door: a Unix socket in the instance directory. Each accepted client gets a
/// <see cref="ClientConnection"/>, up to the connection cap; one more is refused with
/// STATUS_REQUEST_NOT_ACCEPTED. When the last client leaves, the idle callback runs.
/// </summary>
internal sealed partial class GateListener(string socketPath, ServiceTable services, ProcessManager processes,
    KernelOptions options, ILogger logger) : IDisposable
{
    /// <summary>Descriptors kept free beyond the connections, for what the kernel itself opens (assemblies, drivers' files, logs).</summary>
    private const int DescriptorReserve = 64;

    /// <summary>Refusals in progress at once (each holds a descriptor until its peer says hello); the next waits for one to end.</summary>
    private const int MaxRefusalsInFlight = 32;

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromSeconds(1);

    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly ConcurrentDictionary<ClientConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly LogThrottle _throttle = new(TimeSpan.FromSeconds(5));
    private readonly IdleMemoryTrim _trim = new();
    private readonly SemaphoreSlim _refusals = new(MaxRefusalsInFlight);
    private readonly SubmissionPoller? _poller = options.SharedMemoryGate && SubmissionPoller.Supported ? new SubmissionPoller(logger) : null;
    private int _maxConnections = options.MaxConnections;
    private readonly UserConnectionCounts _perUser = new(options.Quotas.MaxConnectionsPerUser);

    /// <summary>Raised (with the new count) whenever a client connects or leaves.</summary>
    public event Action<int>? ClientCountChanged;

    public int ClientCount => _connections.Count;

    /// <summary>The cap in force: the configured one, or less if the descriptor limit leaves room for fewer.</summary>
    public int MaxConnections => _maxConnections;

    public void Start()
    {
        if (File.Exists(socketPath)) File.Delete(socketPath);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        SocketAccess.Apply(socketPath, options);
        _listener.Listen(128);
        // A takeover's set-aside socket led to the kernel we replace: now that we listen, the instance has one again.
        File.Delete(socketPath + KernelBridge.Abi.Protocol.WireProtocol.SetAsideSocketSuffix);
        FitCapToDescriptors();
    }

    /// <summary>Each connection holds a descriptor: never promise more connections than the process may open.</summary>
    private void FitCapToDescriptors()
    {
        if (Libc.DescriptorLimit() is not { } limit) return;
        var open = Directory.GetFiles("/proc/self/fd").Length;
        var room = (int)Math.Clamp(limit - open - DescriptorReserve, 1, int.MaxValue);
        if (room >= _maxConnections) return;
        LogCapLowered(_maxConnections, room, limit, open);
        _maxConnections = room;
    }

    public async Task AcceptLoopAsync()
    {
        using var acceptor = new SocketAcceptor();
        var backoff = TimeSpan.Zero;
        while (!_stopping.IsCancellationRequested)
        {
            var (client, error) = await acceptor.AcceptAsync(_listener).ConfigureAwait(false);
            if (client is null)
            {
                if (_stopping.IsCancellationRequested || error == SocketError.OperationAborted) break;
                // EMFILE/ENFILE (no descriptor for the new socket), ENOBUFS, ENOMEM: trying again at once
                // would spin. The peer waits in the listen backlog meanwhile.
                backoff = backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, LastBackoff.Ticks));
                if (_throttle.ShouldLog("accept " + error, out var suppressed))
                    LogAcceptFailed(error.ToString(), (int)backoff.TotalMilliseconds, suppressed);
                if (!await WaitAsync(backoff).ConfigureAwait(false)) break;
                continue;
            }
            backoff = TimeSpan.Zero;

            if (_connections.Count >= _maxConnections)
            {
                if (!await RefuseAsync(client, NtStatus.STATUS_REQUEST_NOT_ACCEPTED).ConfigureAwait(false)) break;
                continue;
            }
            uint userId;
            try
            {
                userId = PeerCredentials.Of(client).UserId;
            }
            catch (SocketException)
            {
                client.Dispose();
                continue;
            }
            // One user at its limit: STATUS_CONNECTION_COUNT_LIMIT (ERROR_CONNECTION_COUNT_LIMIT, "the limit
            // on the number of concurrent connections for this account has been reached").
            if (!_perUser.TryAdd(userId))
            {
                if (_throttle.ShouldLog("refused user", out var suppressedUser)) LogUserRefused(userId, _perUser.Limit, suppressedUser);
                if (!await RefuseAsync(client, NtStatus.STATUS_CONNECTION_COUNT_LIMIT).ConfigureAwait(false)) break;
                continue;
            }
            ClientConnection connection;
            try
            {
                connection = new ClientConnection(client, services, options.MaxClientBacklog, _trim, processes, logger, _poller);
            }
            catch (SocketException)
            {
                _perUser.Remove(userId);
                client.Dispose();
                continue;
            }
            var registered = new TaskCompletionSource();
            var task = Task.Run(async () =>
            {
                await registered.Task.ConfigureAwait(false);
                await connection.RunAsync(_stopping.Token).ConfigureAwait(false);
            });
            _connections[connection] = task;
            registered.SetResult();
            ClientCountChanged?.Invoke(_connections.Count);
            _ = task.ContinueWith(_ =>
            {
                _connections.TryRemove(connection, out Task? _);
                _perUser.Remove(userId);
                ClientCountChanged?.Invoke(_connections.Count);
            }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Over the cap: STATUS_REQUEST_NOT_ACCEPTED, as a Windows server at its connection limit
    /// answers. Starts the refusal and returns; false if the kernel began stopping meanwhile.
    /// </summary>
    private async Task<bool> RefuseAsync(Socket client, NtStatus status)
    {
        if (status == NtStatus.STATUS_REQUEST_NOT_ACCEPTED && _throttle.ShouldLog("refused", out var suppressed))
            LogRefused(_connections.Count, _maxConnections, suppressed);
        try
        {
            await _refusals.WaitAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            client.Dispose();
            return false;
        }
        _ = ConnectionRefusal.RefuseAsync(client, status)
            .ContinueWith(_ => _refusals.Release(), TaskScheduler.Default);
        return true;
    }

    /// <summary>False if the kernel began stopping meanwhile.</summary>
    private async Task<bool> WaitAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Stops accepting and disconnects every client; their waiting calls fail at once.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        _listener.Dispose();
        // Every socket is shut before any connection starts its rundown (which the cancellation
        // starts): what the rundown completes must not reach the clients, whose calls in progress
        // fail with STATUS_PORT_DISCONNECTED, not with the rundown's STATUS_CANCELLED.
        foreach (var connection in _connections.Keys) connection.Abort();
        await _stopping.CancelAsync().ConfigureAwait(false);
        var all = Task.WhenAll(_connections.Values);
        await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false);
        try
        {
            if (File.Exists(socketPath)) File.Delete(socketPath);
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        _stopping.Dispose();
        _trim.Dispose();
        _poller?.Dispose();
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Warning, Message = "accept failed: {Error}; trying again in {DelayMs} ms ({Suppressed} more since the last report)")]
    private partial void LogAcceptFailed(string error, int delayMs, int suppressed);

    [LoggerMessage(EventId = 211, Level = LogLevel.Warning, Message = "refusing a connection: {Clients} clients already, the most this kernel serves is {Max} ({Suppressed} more refused since the last report)")]
    private partial void LogRefused(int clients, int max, int suppressed);

    [LoggerMessage(EventId = 213, Level = LogLevel.Warning, Message = "refusing a connection of uid {Uid}: it has {Max} already, the most one user may have ({Suppressed} more refused since the last report)")]
    private partial void LogUserRefused(uint uid, int max, int suppressed);

    [LoggerMessage(EventId = 212, Level = LogLevel.Warning, Message = "serving at most {Cap} clients, not {Configured}: the descriptor limit is {Limit} and {Open} are open already")]
    private partial void LogCapLowered(int configured, int cap, long limit, int open);
}
