using System.Net.Sockets;
using KernelBridge.Abi.Protocol;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Client.Gate;

/// <summary>
/// A process's connection to its kernel, as the rest of the client sees it. It puts the parts
/// together: the <see cref="GateConnection"/> (socket, reader thread, calls in flight, pended I/O),
/// the <see cref="HandleFacts"/> learned at open, and the <see cref="BindingPort"/>; its call path
/// (<see cref="Call{TRequest, TReply}"/> and friends) is what every Ntdll stub uses.
/// A handle (<see cref="KernelBridge.Client.KernelHandle"/>) carries the connection that opened it.
/// The public Nt and Win32 faces, which take raw handles as Windows does, use <see cref="Current"/>:
/// the process-wide <see cref="Default"/> connection (made on first use, starting a kernel if
/// needed), unless the calling thread chose another with <see cref="Use"/>.
/// </summary>
public sealed partial class GateClient : IDisposable
{
    private static readonly Lock DefaultLock = new();
    private static GateClient? _default;
    [ThreadStatic] private static GateClient? _override;
    [ThreadStatic] private static int _threadId;

    private GateClient(Socket socket, string instance, HelloReply hello, SafeFileHandle? area, GateFeatures asked, Memory.ViewSpace? views)
    {
        Instance = instance;
        KernelProcessId = hello.KernelProcessId;
        Connection = new GateConnection(socket, area, in hello, spins: (asked & GateFeatures.NoSpin) == 0, views);
        BindingPort = new BindingPort(this);
    }

    /// <summary>The instance this connection talks to.</summary>
    public string Instance { get; }

    /// <summary>The kernel host's process id.</summary>
    public int KernelProcessId { get; }

    /// <summary>False once the kernel has gone (stopped, killed, or it dropped us).</summary>
    public bool IsConnected => Connection.IsConnected;

    /// <summary>
    /// Run the continuation of an awaited <see cref="KernelBridge.Client.DeviceFile"/> request on the thread
    /// that reads this connection's results instead of queueing it to the thread pool (off unless
    /// KERNELBRIDGE_INLINE_COMPLETIONS=1). Much faster for many small requests in flight; but a
    /// continuation that blocks holds up every later completion of the connection, and one that waits
    /// for another request's completion deadlocks — the bargain of .NET's inline socket completions.
    /// </summary>
    public bool InlineCompletions { get; set; } = GateSelection.ParseInlineCompletions(Environment.GetEnvironmentVariable(GateSelection.InlineCompletionsVariable));

    /// <summary>True if calls go through a syscall area shared with the kernel; false on the socket gate.</summary>
    public bool UsesSharedMemory => Connection.Shared is not null;

    internal GateConnection Connection { get; }

    internal HandleFacts Handles { get; } = new();

    internal BindingPort BindingPort { get; }

    /// <summary>The connection the Nt and Win32 faces use on this thread.</summary>
    public static GateClient Current => _override ?? Default;

    private Memory.IoBufferPool? _ioBuffers;
    private bool _ioBuffersRefused;
    private readonly Lock _ioBuffersLock = new();

    /// <summary>
    /// This connection's I/O buffers (memory the kernel shares: I/O on them is not copied), made on
    /// first use; null if the kernel would not give the section.
    /// </summary>
    public Memory.IoBufferPool? IoBuffers
    {
        get
        {
            if (Volatile.Read(ref _ioBuffers) is { } pool) return pool;
            lock (_ioBuffersLock)
            {
                if (_ioBuffers is not null || _ioBuffersRefused) return _ioBuffers;
                try
                {
                    _ioBuffers = Memory.IoBufferPool.Create(this);
                }
                catch (NtStatusException)
                {
                    _ioBuffersRefused = true;
                }
                return _ioBuffers;
            }
        }
    }

    /// <summary>The process-wide connection, to KERNELBRIDGE_INSTANCE's kernel (started if need be).</summary>
    public static GateClient Default
    {
        get
        {
            var existing = Volatile.Read(ref _default);
            if (existing is not null) return existing;
            lock (DefaultLock)
            {
                return _default ??= Connect();
            }
        }
    }

    /// <summary>Makes this thread's Ntdll and Kernel32 calls use <paramref name="client"/> until disposed.</summary>
    public static ThreadScope Use(GateClient client) => new(client);

    public readonly struct ThreadScope : IDisposable
    {
        private readonly GateClient? _previous;

        internal ThreadScope(GateClient client)
        {
            _previous = _override;
            _override = client;
        }

        public void Dispose() => _override = _previous;
    }

    /// <summary>
    /// Connects to an instance's kernel, starting one if none runs and <paramref name="autoStart"/>.
    /// Throws <see cref="KernelUnavailableException"/> with the reason if it cannot.
    /// </summary>
    public static GateClient Connect(string? instance = null, bool autoStart = true) =>
        Connect(instance, autoStart, GateSelection.FromEnvironment());

    /// <summary>As <see cref="Connect(string?, bool)"/>, asking for <paramref name="features"/> instead of what the environment says.</summary>
    public static GateClient Connect(string? instance, bool autoStart, GateFeatures features)
    {
        var directory = InstanceDirectory.Open(instance, create: true);
        var socket = KernelLauncher.ConnectOrStart(directory, autoStart);
        try
        {
            return Handshake(socket, directory.Instance, WireProtocol.Version, features);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects over an already-open socket (tests use this to speak to impostors).</summary>
    internal static GateClient Handshake(Socket socket, string instance, uint version, GateFeatures features = GateFeatures.None)
    {
        var views = Memory.ViewSpace.TryReserve();
        try
        {
            var (reply, area) = GateHandshake.Exchange(socket, instance, version, features, views);
            return new GateClient(socket, instance, reply, area, features, views);
        }
        catch
        {
            views?.Dispose();
            throw;
        }
    }

    /// <summary>The calling thread's id, as the kernel knows it (the Linux thread id).</summary>
    public static int CurrentThreadId => _threadId != 0 ? _threadId : _threadId = Libc.CurrentThreadId();

    public void Dispose()
    {
        _ioBuffers?.Dispose();
        Connection.Dispose();
        lock (DefaultLock)
        {
            if (ReferenceEquals(_default, this)) _default = null;
        }
    }
}
