using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Platform;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Client.Gate;

/// <summary>
/// The transport of one connection, after the handshake: the socket, the frames sent on it, and a
/// reader thread that hands each Return frame to its call and each completion notice to its pended
/// request, in arrival order. When the kernel goes, every call in flight and every pended request
/// learns it (STATUS_PORT_DISCONNECTED), and every later call fails at once. On the shared-memory
/// gate the frames go through the syscall area's rings instead (<see cref="SharedGate"/>), and
/// there is no reader thread: whoever waits for a result reads it.
/// </summary>
internal sealed class GateConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly FrameSender _sender;
    private readonly FrameReceiver _receiver;
    private readonly Thread? _reader;

    public GateConnection(Socket socket, SafeFileHandle? area, in HelloReply hello, bool spins, Memory.ViewSpace? views)
    {
        _socket = socket;
        _sender = new FrameSender(socket);
        _receiver = new FrameReceiver { Descriptors = Descriptors };
        Views = views;
        Calls = new CallTable(this);
        if (area is not null)
        {
            Shared = SharedGate.Open(this, socket, _sender, area, in hello, spins);
            return;
        }
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "KernelBridge gate reader" };
        _reader.Start();
    }

    public CallTable Calls { get; }

    /// <summary>Descriptors that came with frames (a view's section), taken in order by the frames that carry them.</summary>
    public ReceivedDescriptors Descriptors { get; } = new();

    /// <summary>Where the kernel maps this process's views (null: the process could not reserve room).</summary>
    public Memory.ViewSpace? Views { get; }

    /// <summary>The shared-memory gate, if the kernel granted it.</summary>
    public SharedGate? Shared { get; }

    /// <summary>Results this connection still waits for: calls in flight and pended requests.</summary>
    public int Expecting => Calls.InFlight + Outstanding.Count;

    public OutstandingIo Outstanding { get; } = new();

    /// <summary>False once the kernel has gone (stopped, killed, or it dropped us).</summary>
    public bool IsConnected => !Calls.IsClosed;

    /// <summary>
    /// Starts a call: numbers it, enters it in the table and sends it. The call comes back in flight,
    /// or already completed (the connection is gone, or the frame would be too long). A detached call
    /// belongs to the pool once sent: the caller must not touch it.
    /// </summary>
    public GateCall Send<TRequest>(ushort number, in TRequest request, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2,
        CallWaiter waiter, int keep, IoTarget? target) where TRequest : unmanaged
    {
        if (!Calls.TryStart(waiter, keep, target, out var call)) return call;
        var length = FrameLayout.Length<TRequest>(data1, data2);
        if (length > WireProtocol.MaxFrameLength)
        {
            Calls.Fail(call, NtStatus.STATUS_INSUFFICIENT_RESOURCES);
            return call;
        }
        if (Shared is { } shared)
        {
            if (!shared.Submit(FrameKind.Call, number, call.Sequence, GateClient.CurrentThreadId, in request, data1, data2))
                Break(NtStatus.STATUS_PORT_DISCONNECTED);
            else if (waiter != CallWaiter.Blocking)
                shared.EnsureReader();
            return call;
        }
        if (!_sender.Send(FrameKind.Call, number, call.Sequence, GateClient.CurrentThreadId, in request, data1, data2))
            Break(NtStatus.STATUS_PORT_DISCONNECTED);
        return call;
    }

    private void ReadLoop()
    {
        try
        {
            while (_receiver.Receive(_socket) is { } frame) Deliver(frame.Span);
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
        Break(NtStatus.STATUS_PORT_DISCONNECTED);
    }

    /// <summary>Hands one frame from the kernel to its call or pended request (one thread at a time, in arrival order).</summary>
    public void Deliver(ReadOnlySpan<byte> frame)
    {
        var header = MemoryMarshal.Read<FrameHeader>(frame);
        var payload = frame[FrameHeader.Size..];
        if (header.Kind == FrameKind.Return) OnReturn(header, payload);
        else if (header.Kind == FrameKind.Notify) OnNotify(header, payload);
        else if (header.Kind == FrameKind.View) OnView(header, payload);
        else throw new ProtocolViolationException($"unexpected {header.Kind} frame from the kernel");
    }

    /// <summary>The kernel mapped or unmapped one of our views: done here before any later result is delivered.</summary>
    private void OnView(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (payload.Length != Unsafe.SizeOf<ViewInstruction>() || Views is null)
            throw new ProtocolViolationException($"a view frame of {payload.Length} bytes for a process {(Views is null ? "without" : "with")} a view space");
        var operation = (ViewOperation)header.Code;
        Views.Apply(operation, MemoryMarshal.Read<ViewInstruction>(payload), operation == ViewOperation.Map ? Descriptors.Take() : null);
    }

    private void OnReturn(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (Calls.TryTake(header.Sequence) is not { } call) return;
        var target = call.Target;
        var orphaned = false;
        var completionFollows = false;
        if (target is { } io && payload.Length >= Unsafe.SizeOf<IoTransferReply>())
        {
            // The caller's memory is written here, once, before the caller can see the result; the
            // call keeps only the fixed reply. A pended request's memory is written again on completion.
            var transfer = MemoryMarshal.Read<IoTransferReply>(payload);
            io.Apply(transfer, payload[Unsafe.SizeOf<IoTransferReply>()..]);
            completionFollows = (transfer.Flags & IoReplyFlags.CompletionFollows) != 0;
            orphaned = completionFollows && !Outstanding.TryAdd(header.Sequence, io);
        }
        call.Complete((NtStatus)header.Value, payload, completionFollows);
        // Pended while the connection went: its completion will never come.
        if (orphaned) target!.Value.Completed?.Invoke(Calls.ClosedWith);
    }

    private void OnNotify(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if ((NotificationKind)header.Code != NotificationKind.IoCompletion || payload.Length < Unsafe.SizeOf<IoTransferReply>())
            throw new ProtocolViolationException($"unknown notification {header.Code} from the kernel");
        if (!Outstanding.TryTake(header.Sequence, out var target)) return;
        var transfer = MemoryMarshal.Read<IoTransferReply>(payload);
        target.Apply(transfer, payload[Unsafe.SizeOf<IoTransferReply>()..]);
        target.Completed?.Invoke((NtStatus)transfer.IoStatus.Status);
    }

    /// <summary>The kernel is gone: every waiting call and pended request fails now, every later call at once.</summary>
    private int _disposed;

    public void Break(NtStatus status)
    {
        Calls.Close(status);
        Outstanding.Close(Calls.ClosedWith);
        Shared?.Cancel();
    }

    public void Dispose()
    {
        // Idempotent, as Dispose must be: a second call finds everything released already.
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        if (Shared is { } shared)
        {
            Break(NtStatus.STATUS_PORT_DISCONNECTED);
            shared.Dispose();
            _socket.Dispose();
            _sender.Dispose();
            _receiver.Dispose();
            ReleaseViews();
            return;
        }
        _socket.Dispose();
        // A reader that does not stop (stuck in a user callback) keeps its buffers: freeing them under it would crash it.
        if (_reader!.Join(TimeSpan.FromSeconds(5)) || !_reader.IsAlive)
        {
            _sender.Dispose();
            _receiver.Dispose();
        }
        ReleaseViews();
    }

    /// <summary>The kernel has forgotten our views: they go, with the room reserved for them.</summary>
    private void ReleaseViews()
    {
        Views?.Dispose();
        Descriptors.Dispose();
    }
}
