using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate.Shared;
using KernelBridge.Kernel.Ps;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// One client process's control socket: handshake, then calls in and results out. A frame that
/// breaks the protocol ends this connection (and only this one); its process runs down. Results
/// never wait for the client to read them: they queue, and a client that lets more than
/// <c>maxBacklog</c> bytes pile up has stopped reading and is disconnected the same way.
/// A client that asks for the shared-memory gate (and gets it) sends its calls through its syscall
/// area instead, served by the <see cref="SubmissionPoller"/>; this socket then carries only the
/// frames too long for a ring record, and tells the kernel when the client is gone.
/// </summary>
internal sealed partial class ClientConnection : IDisposable, Mm.IViewMapper
{
    private readonly Socket _socket;
    private readonly FrameReceiver _receiver = new();
    private readonly QueuedFrameSender _sender;
    private readonly ServiceTable _services;
    private readonly long _maxBacklog;
    private readonly IdleMemoryTrim _trim;
    private readonly ProcessManager _processes;
    private readonly ILogger _logger;
    private readonly PeerCredentials _peer;
    private readonly SubmissionPoller? _poller;
    private SharedSession? _shared;

    public ClientConnection(Socket socket, ServiceTable services, long maxBacklog, IdleMemoryTrim trim,
        ProcessManager processes, ILogger logger, SubmissionPoller? poller = null)
    {
        _poller = poller;
        _socket = socket;
        _sender = new QueuedFrameSender(socket, maxBacklog, OnBacklogOverflow);
        _services = services;
        _maxBacklog = maxBacklog;
        _trim = trim;
        _processes = processes;
        _logger = logger;
        _peer = PeerCredentials.Of(socket);
        IoSink = new IoReplySink(this);
    }

    public PeerCredentials Peer => _peer;

    /// <summary>Where this client's I/O requests hand their outcomes.</summary>
    public IoReplySink IoSink { get; }
    public ProcessObject? Process { get; private set; }

    /// <summary>Serves the connection until the client goes, breaks the protocol, or the kernel stops.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await HandshakeAsync(cancellationToken).ConfigureAwait(false)) return;
            while (true)
            {
                var frame = await _receiver.ReceiveAsync(_socket, cancellationToken).ConfigureAwait(false);
                if (frame is null) break;
                _trim.NoteFrame();
                if (_shared is { } shared)
                {
                    if (!await ServeInOrderAsync(shared, frame.Value, cancellationToken).ConfigureAwait(false)) break;
                }
                else
                {
                    Serve(frame.Value.Span);
                }
            }
        }
        catch (ProtocolViolationException e)
        {
            LogProtocolViolation(_peer.ProcessId, e.Message);
        }
        catch (SocketException)
        {
            // The client vanished mid-frame; rundown below is all that is left to do.
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A socket frame from a shared-memory client: the ring's marker holds its place, so it is served
    /// there, not before. (Its own method: the read loop must not keep a large frame alive across this await.)
    /// </summary>
    private async Task<bool> ServeInOrderAsync(SharedSession shared, ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        if (!await shared.WaitForMarkerAsync(_socket, cancellationToken).ConfigureAwait(false)) return false;
        lock (shared.ServeLock) Serve(frame.Span);
        shared.ResumeAfterSocketFrame();
        _poller!.Wake();
        return true;
    }

    private async Task<bool> HandshakeAsync(CancellationToken cancellationToken)
    {
        // Until it has said hello, a peer may send nothing bigger than a Hello of any version, and only for so long.
        _receiver.MaxFrameLength = FrameHeader.Size + MaxHelloLength;
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        patience.CancelAfter(TimeSpan.FromSeconds(10));
        var frame = await _receiver.ReceiveAsync(_socket, patience.Token).ConfigureAwait(false);
        _receiver.MaxFrameLength = WireProtocol.MaxFrameLength;
        _receiver.LengthLimit = LengthLimit;
        if (frame is null) return false;
        _trim.NoteFrame();
        var span = frame.Value.Span;
        var header = MemoryMarshal.Read<FrameHeader>(span);
        // Every version's Hello starts with the magic and the version: read those first, so a client
        // of another version (whose Hello may be longer or shorter) hears why it is refused.
        if (header.Kind != FrameKind.Hello || span.Length < FrameHeader.Size + 2 * sizeof(uint))
            throw new ProtocolViolationException($"expected a Hello frame first, got {header.Kind} of {span.Length} bytes");
        var magic = MemoryMarshal.Read<uint>(span[FrameHeader.Size..]);
        var version = MemoryMarshal.Read<uint>(span[(FrameHeader.Size + sizeof(uint))..]);
        if (magic != WireProtocol.Magic)
            throw new ProtocolViolationException($"bad magic 0x{magic:X8} in Hello");
        if (version != WireProtocol.Version)
        {
            LogVersionMismatch(_peer.ProcessId, version, WireProtocol.Version);
            SendHello(NtStatus.STATUS_REVISION_MISMATCH);
            return false;
        }
        if (span.Length != FrameHeader.Size + Unsafe.SizeOf<HelloRequest>())
            throw new ProtocolViolationException($"a version {version} Hello of {span.Length} bytes");
        var hello = MemoryMarshal.Read<HelloRequest>(span[FrameHeader.Size..]);
        Process = _processes.Create(_peer.ProcessId, _peer.UserId, _peer.GroupId);
        if (ViewSpaceIsSound(hello.ViewSpaceBase, hello.ViewSpaceLength)) Process.Views = new Mm.ViewSpace(hello.ViewSpaceBase, hello.ViewSpaceLength, this);
        if ((hello.Features & GateFeatures.SharedMemory) != 0 && TryOpenSharedGate(hello.Features)) return true;
        SendHello(NtStatus.STATUS_SUCCESS);
        return true;
    }

    /// <summary>The longest Hello any version may send (this one's is far shorter).</summary>
    private const int MaxHelloLength = 256;

    /// <summary>The view space a client reserved: granularity-aligned, not empty, inside a 47-bit user address space.</summary>
    private static bool ViewSpaceIsSound(ulong baseAddress, ulong length)
    {
        const ulong granularity = MemoryAttributes.AllocationGranularity;
        const ulong userSpaceEnd = 1UL << 47;
        return length != 0 && baseAddress != 0 && baseAddress % granularity == 0 && length % granularity == 0
            && baseAddress < userSpaceEnd && length <= userSpaceEnd - baseAddress;
    }

    /// <summary>Tells the client library to map a view (the memfd travels with the frame), ahead of any later result.</summary>
    public bool Map(ulong address, ulong length, long offset, uint protection, Microsoft.Win32.SafeHandles.SafeFileHandle memory)
    {
        Span<byte> frame = stackalloc byte[FrameHeader.Size + Unsafe.SizeOf<ViewInstruction>()];
        MemoryMarshal.Write(frame, new FrameHeader((uint)frame.Length, FrameKind.View, (ushort)ViewOperation.Map, 0, 0));
        MemoryMarshal.Write(frame[FrameHeader.Size..], new ViewInstruction(address, length, offset, protection, 0));
        return _shared is { } shared ? shared.Completions.SendWithDescriptor(frame, memory) : _sender.SendFrameWithDescriptor(frame, memory);
    }

    /// <summary>Tells the client library to give a view's range back to its reservation.</summary>
    public void Unmap(ulong address, ulong length)
    {
        var instruction = new ViewInstruction(address, length, 0, 0, 0);
        _ = _shared is { } shared
            ? shared.Completions.Send(FrameKind.View, (ushort)ViewOperation.Unmap, 0, 0, in instruction)
            : _sender.Send(FrameKind.View, (ushort)ViewOperation.Unmap, 0, 0, in instruction);
    }

    /// <summary>
    /// Creates the client's syscall area and sends the HelloReply with its descriptor. False if this
    /// kernel cannot (no futex_waitv, or the poller serves as many clients as it may): the client
    /// then gets the socket gate.
    /// </summary>
    private bool TryOpenSharedGate(GateFeatures asked)
    {
        if (_poller is null) return false;
        SyscallArea area;
        try
        {
            area = SyscallArea.Create(_peer.ProcessId);
        }
        catch (IOException e)
        {
            LogNoSharedArea(_peer.ProcessId, e.Message);
            return false;
        }
        var completions = new CompletionChannel(area.Completions, _sender, _maxBacklog, OnBacklogOverflow, OnSharedMemoryViolation, _poller.Wake);
        var session = new SharedSession(this, area, completions, spins: (asked & GateFeatures.NoSpin) == 0);
        if (!_poller.TryAttach(session))
        {
            session.Dispose();
            return false;
        }
        _shared = session;
        var reply = new HelloReply(WireProtocol.Magic, WireProtocol.Version, NtStatus.STATUS_SUCCESS, Environment.ProcessId, _peer.ProcessId, _peer.UserId,
            GateFeatures.SharedMemory, SyscallArea.SubmissionRingLength, SyscallArea.CompletionRingLength);
        Span<byte> frame = stackalloc byte[FrameHeader.Size + Unsafe.SizeOf<HelloReply>()];
        MemoryMarshal.Write(frame, new FrameHeader((uint)frame.Length, FrameKind.HelloReply, 0, 0, NtStatus.STATUS_SUCCESS.Value));
        MemoryMarshal.Write(frame[FrameHeader.Size..], in reply);
        // The only frame with a descriptor; nothing else is queued yet, so it goes straight out.
        if (Libc.SendWithDescriptors(_socket.SafeHandle, frame, [area.Descriptor], out _) != frame.Length) Abort();
        return true;
    }

    /// <summary>A call that came through the syscall area (already copied out of it): checked as a socket frame's header would be, then served.</summary>
    internal void ServeRecord(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < FrameHeader.Size) throw new ProtocolViolationException($"a record of {frame.Length} bytes is shorter than a frame header");
        var header = MemoryMarshal.Read<FrameHeader>(frame);
        if (header.Length != frame.Length) throw new ProtocolViolationException($"a record of {frame.Length} bytes holds a frame of {header.Length}");
        LengthLimit(in header);
        _trim.NoteFrame();
        Serve(frame);
    }

    /// <summary>The client broke its syscall area: the same end as a bad frame on the socket.</summary>
    internal void OnSharedMemoryViolation(string reason)
    {
        LogProtocolViolation(_peer.ProcessId, reason);
        Abort();
    }

    /// <summary>After the handshake a client sends calls only, each within its service's limit: checked on the header alone.</summary>
    private int LengthLimit(in FrameHeader header)
    {
        if (header.Kind != FrameKind.Call) throw new ProtocolViolationException($"unexpected {header.Kind} frame from a client");
        var limit = RequestLimits.MaxFrameLength(header.Code);
        if (header.Length > limit)
            throw new ProtocolViolationException($"{(Syscall)header.Code}: a frame of {header.Length} bytes, the service takes at most {limit}");
        return limit;
    }

    private void OnBacklogOverflow(long backlog)
    {
        LogStoppedReading(_peer.ProcessId, backlog, _maxBacklog);
        Abort();
    }

    private void SendHello(NtStatus status)
    {
        var reply = new HelloReply(WireProtocol.Magic, WireProtocol.Version, status, Environment.ProcessId, _peer.ProcessId, _peer.UserId);
        _sender.Send(FrameKind.HelloReply, 0, 0, status, in reply);
    }

    private void Serve(ReadOnlySpan<byte> frame)
    {
        var header = MemoryMarshal.Read<FrameHeader>(frame);
        switch (header.Kind)
        {
            case FrameKind.Call:
                var process = Process!;
                if (header.Value <= 0) throw new ProtocolViolationException($"call from thread id {header.Value}");
                var thread = _processes.ThreadOf(process, header.Value)
                    ?? throw new ProtocolViolationException($"more than {ProcessManager.MaxThreadsPerProcess} thread ids claimed");
                var context = new SyscallContext(process, thread, new ReplyTarget(this, header.Sequence, (Syscall)header.Code));
                try
                {
                    _services.Dispatch(in context, header.Code, frame[FrameHeader.Size..]);
                }
                catch (ProtocolViolationException)
                {
                    throw;
                }
                catch (Exception e)
                {
                    // A kernel bug, not the client's fault: fail this call, keep serving.
                    LogServiceFailure(e, (Syscall)header.Code, process.ProcessId);
                    context.Reply.Send(NtStatus.STATUS_INTERNAL_ERROR);
                }
                break;
            default:
                throw new ProtocolViolationException($"unexpected {header.Kind} frame from a client");
        }
    }

    /// <summary>Sends a call's result. False if the client has gone (its result is dropped, as Windows drops an exited thread's).</summary>
    public bool SendReturn<T>(uint sequence, Syscall number, NtStatus status, in T reply, ReadOnlySpan<byte> data1, ReadOnlySpan<byte> data2)
        where T : unmanaged
    {
        _services.TraceReturn(_peer.ProcessId, sequence, number, status);
        return _shared is { } shared
            ? shared.Completions.Send(FrameKind.Return, (ushort)number, sequence, status, in reply, data1, data2)
            : _sender.Send(FrameKind.Return, (ushort)number, sequence, status, in reply, data1, data2);
    }

    /// <summary>Sends an unasked message (an overlapped request's completion) about call <paramref name="sequence"/>.</summary>
    public bool SendNotify<T>(NotificationKind kind, uint sequence, in T payload, ReadOnlySpan<byte> data) where T : unmanaged =>
        _shared is { } shared
            ? shared.Completions.Send(FrameKind.Notify, (ushort)kind, sequence, 0, in payload, data)
            : _sender.Send(FrameKind.Notify, (ushort)kind, sequence, 0, in payload, data);

    /// <summary>Ends the connection from the kernel's side (kernel shutdown).</summary>
    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private int _closed;

    private async Task CloseAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0) return;
        if (_shared is { } shared)
        {
            // No poller may read the rings once the process is run down: let go of them first,
            // and wait out one that is still inside a call of ours.
            await _poller!.DetachAsync(shared).ConfigureAwait(false);
            lock (shared.ServeLock) shared.Completions.Close();
        }
        if (Process is { } process) _processes.Rundown(process);
        Dispose();
    }

    public void Dispose()
    {
        _sender.Dispose();
        _socket.Dispose();
        _receiver.Dispose();
        _shared?.Completions.Close();
        _shared?.Dispose();
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "protocol violation from process {Pid}: {Reason}; disconnecting it")]
    private partial void LogProtocolViolation(int pid, string reason);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "process {Pid} speaks protocol version {ClientVersion}, this kernel speaks {KernelVersion}; refusing it")]
    private partial void LogVersionMismatch(int pid, uint clientVersion, uint kernelVersion);

    [LoggerMessage(EventId = 202, Level = LogLevel.Error, Message = "{Service} from process {Pid} failed inside the kernel")]
    private partial void LogServiceFailure(Exception exception, Syscall service, int pid);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "no syscall area for process {Pid} ({Reason}); it gets the socket gate")]
    private partial void LogNoSharedArea(int pid, string reason);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "process {Pid} stopped reading: {Backlog} bytes of results would be waiting for it, the limit is {Limit}; disconnecting it")]
    private partial void LogStoppedReading(int pid, long backlog, long limit);
}
