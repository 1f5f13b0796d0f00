using System.Net.Sockets;

namespace KernelBridge.Platform;

/// <summary>
/// Accepts connections on a listening socket, reporting a failure as a <see cref="SocketError"/>
/// instead of throwing. Failures such as EMFILE come when the process has no descriptor left,
/// and throwing then is itself a risk: the runtime may need to open files to build the exception
/// (it loads assemblies for the stack trace), and failing that can take the whole process down.
/// One accept at a time.
/// </summary>
public sealed class SocketAcceptor : IDisposable
{
    private readonly SocketAsyncEventArgs _args = new();
    private TaskCompletionSource? _pending;

    public SocketAcceptor() => _args.Completed += (_, _) => _pending!.SetResult();

    /// <summary>The next connection, or null and why not (OperationAborted once the listener is closed).</summary>
    public async Task<(Socket? Client, SocketError Error)> AcceptAsync(Socket listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        _args.AcceptSocket = null;
        _pending = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool pending;
        try
        {
            pending = listener.AcceptAsync(_args);
        }
        catch (ObjectDisposedException)
        {
            return (null, SocketError.OperationAborted);
        }
        if (pending) await _pending.Task.ConfigureAwait(false);
        var error = _args.SocketError;
        var client = error == SocketError.Success ? _args.AcceptSocket : null;
        _args.AcceptSocket = null;
        return (client, error);
    }

    public void Dispose() => _args.Dispose();
}
