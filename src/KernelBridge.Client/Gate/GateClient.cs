using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Client.Gate;

/// <summary>
/// A process's connection to its kernel: one Unix socket, a reader thread that hands results to
/// the threads waiting for them, and the handshake. Every Ntdll call goes through
/// <see cref="Current"/>: the process-wide connection (made on first use, starting a kernel if
/// needed), unless the calling thread chose another with <see cref="Use"/>.
/// </summary>
public sealed partial class GateClient : IDisposable
{
    private static readonly Lock DefaultLock = new();
    private static GateClient? _default;
    [ThreadStatic] private static GateClient? _override;
    [ThreadStatic] private static int _threadId;

    private readonly Socket _socket;
    private readonly FrameSender _sender;
    private readonly FrameReceiver _receiver = new();
    private readonly Thread _reader;
    private readonly Dictionary<uint, PendingCall> _pending = [];
    private readonly Stack<PendingCall> _free = new();
    private uint _nextSequence;
    private volatile bool _broken;
    private NtStatus _brokenStatus = NtStatus.STATUS_PORT_DISCONNECTED;

    private GateClient(Socket socket, string instance, HelloReply hello)
    {
        _socket = socket;
        _sender = new FrameSender(socket);
        Instance = instance;
        KernelProcessId = hello.KernelProcessId;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "KernelBridge gate reader" };
        _reader.Start();
    }

    /// <summary>The instance this connection talks to.</summary>
    public string Instance { get; }

    /// <summary>The kernel host's process id.</summary>
    public int KernelProcessId { get; }

    /// <summary>False once the kernel has gone (stopped, killed, or it dropped us).</summary>
    public bool IsConnected => !_broken;

    /// <summary>The connection calls on this thread use.</summary>
    public static GateClient Current => _override ?? Default;

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

    /// <summary>Makes this thread's Ntdll calls use <paramref name="client"/> until disposed.</summary>
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
    public static GateClient Connect(string? instance = null, bool autoStart = true)
    {
        var directory = InstanceDirectory.Open(instance, create: true);
        var socket = KernelLauncher.ConnectOrStart(directory, autoStart);
        try
        {
            return Handshake(socket, directory.Instance, WireProtocol.Version);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Connects over an already-open socket (tests use this to speak to impostors).</summary>
    internal static GateClient Handshake(Socket socket, string instance, uint version)
    {
        using var sender = new FrameSender(socket);
        if (!sender.Send(FrameKind.Hello, 0, 0, 0, new HelloRequest(WireProtocol.Magic, version, 0)))
            throw new KernelUnavailableException($"the kernel of instance '{instance}' closed the connection before the handshake");
        using var receiver = new FrameReceiver();
        ReadOnlyMemory<byte>? frame;
        try
        {
            frame = receiver.Receive(socket);
        }
        catch (SocketException e)
        {
            throw new KernelUnavailableException($"the kernel of instance '{instance}' failed the handshake: {e.Message}");
        }
        catch (ProtocolViolationException e)
        {
            throw new KernelUnavailableException($"the kernel of instance '{instance}' answered the handshake with garbage: {e.Message}");
        }
        if (frame is null) throw new KernelUnavailableException($"the kernel of instance '{instance}' closed the connection during the handshake");
        var span = frame.Value.Span;
        var header = MemoryMarshal.Read<FrameHeader>(span);
        if (header.Kind != FrameKind.HelloReply || span.Length < FrameHeader.Size + Unsafe.SizeOf<HelloReply>())
            throw new KernelUnavailableException($"the kernel of instance '{instance}' answered the handshake with a {header.Kind} frame");
        var hello = MemoryMarshal.Read<HelloReply>(span[FrameHeader.Size..]);
        if (hello.Magic != WireProtocol.Magic)
            throw new KernelUnavailableException($"whatever listens for instance '{instance}' is not a KernelBridge kernel");
        if (hello.ProtocolVersion != version || hello.Status == NtStatus.STATUS_REVISION_MISMATCH.Value)
            throw new ProtocolMismatchException(version, hello.ProtocolVersion, hello.KernelProcessId);
        if (!((NtStatus)hello.Status).IsSuccess)
            throw new KernelUnavailableException($"the kernel refused the connection: {(NtStatus)hello.Status}");
        return new GateClient(socket, instance, hello);
    }

    /// <summary>The calling thread's id, as the kernel knows it (the Linux thread id).</summary>
    public static int CurrentThreadId => _threadId != 0 ? _threadId : _threadId = Libc.CurrentThreadId();

    /// <summary>
    /// Makes a system call and waits for its result. The reply's fixed part lands in
    /// <paramref name="reply"/>; its variable data stays in <paramref name="call"/> until
    /// <see cref="Release"/>. A connection that is gone answers STATUS_PORT_DISCONNECTED.
    /// </summary>
    internal NtStatus Call<TRequest, TReply>(in TRequest request, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2,
        out TReply reply, out PendingCall call, IoTarget? target = null)
        where TRequest : unmanaged, IRequest<TReply>
        where TReply : unmanaged
    {
        call = Rent();
        call.Target = target;
        reply = default;
        if (_broken) return Fail(call, _brokenStatus);
        var length = FrameHeader.Size + Unsafe.SizeOf<TRequest>() + data1.Length + data2.Length;
        if (length > WireProtocol.MaxFrameLength) return Fail(call, NtStatus.STATUS_INSUFFICIENT_RESOURCES);
        try
        {
            if (!_sender.Send(FrameKind.Call, (ushort)TRequest.Number, call.Sequence, CurrentThreadId, in request, data1, data2))
            {
                MarkBroken(NtStatus.STATUS_PORT_DISCONNECTED);
            }
        }
        catch (ObjectDisposedException)
        {
            MarkBroken(NtStatus.STATUS_PORT_DISCONNECTED);
        }
        call.Wait();
        var payload = call.Payload;
        if (payload.Length >= Unsafe.SizeOf<TReply>()) reply = MemoryMarshal.Read<TReply>(payload);
        return call.Status;
    }

    /// <summary>
    /// Makes a system call without blocking: the task completes (on the reader thread) with the
    /// status and the reply's bytes. <paramref name="sequence"/> names the call to the kernel, so
    /// a wait can be cancelled (KbCancelWait).
    /// </summary>
    internal Task<(NtStatus Status, byte[] Payload)> CallAsync<TRequest, TReply>(in TRequest request, ReadOnlySpan<byte> data, out uint sequence)
        where TRequest : unmanaged, IRequest<TReply>
        where TReply : unmanaged
    {
        var call = new PendingCall();
        var completion = new TaskCompletionSource<(NtStatus, byte[])>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_pending)
        {
            var next = ++_nextSequence;
            if (next == 0) next = ++_nextSequence;
            call.Reset(next);
            call.Continuation = c =>
            {
                completion.TrySetResult((c.Status, c.Payload.ToArray()));
                c.Dispose();
            };
            _pending[next] = call;
        }
        sequence = call.Sequence;
        if (_broken)
        {
            lock (_pending) _pending.Remove(call.Sequence);
            completion.TrySetResult((_brokenStatus, []));
            return completion.Task;
        }
        if (!_sender.Send(FrameKind.Call, (ushort)TRequest.Number, call.Sequence, CurrentThreadId, in request, data)) MarkBroken(NtStatus.STATUS_PORT_DISCONNECTED);
        return completion.Task;
    }

    private NtStatus Fail(PendingCall call, NtStatus status)
    {
        lock (_pending) _pending.Remove(call.Sequence);
        call.Complete(status, default);
        return status;
    }

    /// <summary>The variable data after the reply's fixed part.</summary>
    internal static ReadOnlySpan<byte> ReplyData<TReply>(PendingCall call) where TReply : unmanaged
    {
        var payload = call.Payload;
        var size = Unsafe.SizeOf<TReply>();
        return payload.Length > size ? payload[size..] : default;
    }

    private PendingCall Rent()
    {
        lock (_pending)
        {
            var call = _free.Count > 0 ? _free.Pop() : new PendingCall();
            var sequence = ++_nextSequence;
            if (sequence == 0) sequence = ++_nextSequence;
            call.Reset(sequence);
            _pending[sequence] = call;
            return call;
        }
    }

    internal void Release(PendingCall call)
    {
        call.Trim();
        lock (_pending)
        {
            if (_free.Count < 64) _free.Push(call);
        }
    }

    private void ReadLoop()
    {
        try
        {
            while (true)
            {
                var frame = _receiver.Receive(_socket);
                if (frame is null) break;
                var span = frame.Value.Span;
                var header = MemoryMarshal.Read<FrameHeader>(span);
                if (header.Kind == FrameKind.Notify)
                {
                    OnNotify(header, span[FrameHeader.Size..]);
                    continue;
                }
                if (header.Kind != FrameKind.Return)
                    throw new ProtocolViolationException($"unexpected {header.Kind} frame from the kernel");
                PendingCall? call;
                lock (_pending)
                {
                    if (_pending.Remove(header.Sequence, out call) is false) call = null;
                }
                if (call is null) continue;
                var payload = span[FrameHeader.Size..];
                if (call.Target is { } target && payload.Length >= Unsafe.SizeOf<IoTransferReply>())
                {
                    // The caller's memory first; a pended overlapped request's memory is written again on completion.
                    var transfer = MemoryMarshal.Read<IoTransferReply>(payload);
                    target.Apply(transfer, payload[Unsafe.SizeOf<IoTransferReply>()..]);
                    if ((transfer.Flags & IoReplyFlags.CompletionFollows) != 0)
                        lock (_pending) _outstanding[header.Sequence] = target;
                }
                call.Complete((NtStatus)header.Value, payload);
            }
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        catch (ProtocolViolationException)
        {
        }
        catch (ArgumentException)
        {
            // The connection was torn down under the reader (Dispose gave up waiting for it).
        }
        MarkBroken(NtStatus.STATUS_PORT_DISCONNECTED);
    }

    // Overlapped requests that pended, by the sequence of the call that issued them.
    private readonly Dictionary<uint, IoTarget> _outstanding = [];

    /// <summary>How many overlapped requests this connection is waiting to hear the end of.</summary>
    internal int OutstandingRequests
    {
        get
        {
            lock (_pending) return _outstanding.Count;
        }
    }

    private void OnNotify(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if ((NotificationKind)header.Code != NotificationKind.IoCompletion || payload.Length < Unsafe.SizeOf<IoTransferReply>())
            throw new ProtocolViolationException($"unknown notification {header.Code} from the kernel");
        IoTarget target;
        lock (_pending)
        {
            if (!_outstanding.Remove(header.Sequence, out target)) return;
        }
        var transfer = MemoryMarshal.Read<IoTransferReply>(payload);
        target.Apply(transfer, payload[Unsafe.SizeOf<IoTransferReply>()..]);
        target.Completed?.Invoke((NtStatus)transfer.IoStatus.Status);
    }

    /// <summary>The kernel is gone: every waiting call fails now, every later one at once.</summary>
    private void MarkBroken(NtStatus status)
    {
        List<PendingCall> waiting;
        lock (_pending)
        {
            if (!_broken) _brokenStatus = status;
            _broken = true;
            waiting = [.. _pending.Values];
            _pending.Clear();
        }
        foreach (var call in waiting) call.Complete(_brokenStatus, default);
        IoTarget[] orphans;
        lock (_pending)
        {
            orphans = [.. _outstanding.Values];
            _outstanding.Clear();
        }
        foreach (var target in orphans) target.Completed?.Invoke(_brokenStatus);
    }

    public void Dispose()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        _socket.Dispose();
        // A reader that does not stop (stuck in a user callback) keeps its buffers: freeing them under it would crash it.
        if (_reader.Join(TimeSpan.FromSeconds(5)) || !_reader.IsAlive)
        {
            _sender.Dispose();
            _receiver.Dispose();
        }
        lock (DefaultLock)
        {
            if (ReferenceEquals(_default, this)) _default = null;
        }
    }
}

/// <summary>Client and kernel speak different protocol versions; restart the kernel with this build.</summary>
public sealed class ProtocolMismatchException(uint clientVersion, uint kernelVersion, int kernelProcessId)
    : Exception($"protocol version mismatch: this client speaks version {clientVersion}, the kernel (pid {kernelProcessId}) speaks version {kernelVersion}; stop it (`kbridge kernel stop`) so a matching kernel starts")
{
    public uint ClientVersion { get; } = clientVersion;
    public uint KernelVersion { get; } = kernelVersion;
}
