using System.Collections.Concurrent;
using System.Net.Sockets;
using KernelBridge.Kernel.Ps;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// The kernel's door: a Unix socket in the instance directory. Each accepted client gets a
/// <see cref="ClientConnection"/>; when the last one leaves, the idle callback runs.
/// </summary>
internal sealed partial class GateListener(string socketPath, ServiceTable services, ProcessManager processes, ILogger logger) : IDisposable
{
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly ConcurrentDictionary<ClientConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Raised (with the new count) whenever a client connects or leaves.</summary>
    public event Action<int>? ClientCountChanged;

    public int ClientCount => _connections.Count;

    public void Start()
    {
        if (File.Exists(socketPath)) File.Delete(socketPath);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        File.SetUnixFileMode(socketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(128);
    }

    public async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e)
            {
                LogAcceptFailed(e.SocketErrorCode.ToString());
                continue;
            }

            ClientConnection connection;
            try
            {
                connection = new ClientConnection(client, services, processes, logger);
            }
            catch (SocketException)
            {
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
                ClientCountChanged?.Invoke(_connections.Count);
            }, TaskScheduler.Default);
        }
    }

    /// <summary>Stops accepting and disconnects every client; their waiting calls fail at once.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        foreach (var connection in _connections.Keys) connection.Abort();
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
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Warning, Message = "accept failed: {Error}")]
    private partial void LogAcceptFailed(string error);
}
