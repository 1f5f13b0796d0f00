using System.Runtime.InteropServices;
using KernelBridge.Kernel.Ke;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Flt.Ports;

/// <summary>
/// One connection (FilterCommunicationPort): the client port the connect callback gets, behind the
/// user's port handle (a file object on FltMgrMsg). It pairs the kernel's sends with the user's
/// FilterGetMessage requests: a send finds a waiting request and is delivered into it at once, or
/// waits in the queue for the next one; a send that wants a reply then waits in a table, by message
/// id, for FilterReplyMessage. One lock guards the queue, the table, the waiting requests and the
/// state, so a send and a get never miss each other.
/// </summary>
internal sealed class ClientPort : FltPort
{
    private enum State
    {
        Connected,
        ClosedByUser,
        ClosedByKernel,
    }

    private readonly Lock _lock = new();
    private readonly LinkedList<PortMessage> _queue = new();
    private readonly Dictionary<ulong, PortMessage> _awaiting = [];
    private readonly CancelSafeQueue _getters = new();
    private ulong _lastId;
    private State _state;
    private int _kernelClosed;

    public ClientPort(FltPortManager manager, ServerPort server, ProcessObject? process) : base(ObjectTypes.FilterCommunicationPort)
    {
        Manager = manager;
        Server = server;
        Process = process;
    }

    public FltPortManager Manager { get; }

    /// <summary>The server port, referenced for the client port's life.</summary>
    public ServerPort Server { get; }

    /// <summary>The process that connected.</summary>
    public ProcessObject? Process { get; }

    /// <summary>The connect callback's connection cookie: what the disconnect and message callbacks get.</summary>
    public object? Cookie { get; set; }

    /// <summary>
    /// Starts a send. False: it ended already, with <paramref name="immediate"/> (the message is not
    /// in the port and the caller returns it). True: the message completes later.
    /// </summary>
    public bool Start(PortMessage message, long deadline, out NtStatus immediate)
    {
        immediate = NtStatus.STATUS_SUCCESS;
        Irp? getter;
        NtStatus delivered;
        int written;
        lock (_lock)
        {
            if (_state != State.Connected)
            {
                immediate = NtStatus.STATUS_PORT_DISCONNECTED;
                return false;
            }
            getter = _getters.RemoveNext();
            if (getter is null)
            {
                if (Timeouts.HasPassed(deadline))
                {
                    immediate = NtStatus.STATUS_TIMEOUT;
                    return false;
                }
                // Waiting for the process is charged to it; FltSendMessage fails with
                // STATUS_INSUFFICIENT_RESOURCES (its pool-allocation failure) past the quota.
                if (Process is { } process && !process.Quota.TryChargePortMessage())
                {
                    immediate = NtStatus.STATUS_INSUFFICIENT_RESOURCES;
                    return false;
                }
                _queue.AddLast(message.Node);
                if (deadline != Timeouts.Never) message.Arm(deadline);
                return true;
            }
            delivered = DeliverUnsynchronized(message, getter, out written);
            // Armed under the lock: a reply, which needs the lock, cannot come before the clock is set.
            if (message.WantsReply && deadline != Timeouts.Never) message.Arm(deadline);
        }
        CompleteIrp(getter, delivered, written);
        return message.WantsReply;
    }

    /// <summary>FLT_CTL_GET_MESSAGE: the oldest queued message now, or the request waits for the next send.</summary>
    public NtStatus GetMessage(Irp irp)
    {
        var length = Ddk.Io.GetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl.OutputBufferLength;
        if (length < FilterPortLimits.HeaderSize) return CompleteIrp(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        PortMessage? message;
        NtStatus delivered;
        int written;
        lock (_lock)
        {
            if (_state != State.Connected) return CompleteIrp(irp, NtStatus.STATUS_PORT_DISCONNECTED, 0);
            message = _queue.First?.Value;
            if (message is null)
            {
                _getters.Insert(irp);
                return NtStatus.STATUS_PENDING;
            }
            _queue.RemoveFirst();
            Process?.Quota.ReturnPortMessage();
            delivered = DeliverUnsynchronized(message, irp, out written);
        }
        CompleteIrp(irp, delivered, written);
        if (!message.WantsReply) message.Complete(NtStatus.STATUS_SUCCESS, 0);
        return delivered;
    }

    /// <summary>Writes FILTER_MESSAGE_HEADER and the message into a get request (cut to fit: STATUS_BUFFER_OVERFLOW).</summary>
    private NtStatus DeliverUnsynchronized(PortMessage message, Irp irp, out int written)
    {
        var length = Ddk.Io.GetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl.OutputBufferLength;
        var output = irp.SystemBuffer.Span[..length];
        message.Id = ++_lastId;
        var header = new FILTER_MESSAGE_HEADER
        {
            ReplyLength = message.WantsReply ? (uint)(message.Reply.Length + FilterPortLimits.HeaderSize) : 0,
            MessageId = message.Id,
        };
        MemoryMarshal.Write(output, in header);
        var body = Math.Min(message.Sender.Length, length - FilterPortLimits.HeaderSize);
        message.Sender.Span[..body].CopyTo(output[FilterPortLimits.HeaderSize..]);
        written = FilterPortLimits.HeaderSize + body;
        if (message.WantsReply) _awaiting.Add(message.Id, message);
        return body < message.Sender.Length ? NtStatus.STATUS_BUFFER_OVERFLOW : NtStatus.STATUS_SUCCESS;
    }

    /// <summary>FLT_CTL_REPLY_MESSAGE: FILTER_REPLY_HEADER and the reply, for the sender waiting on that message id.</summary>
    public NtStatus Reply(Irp irp)
    {
        var length = Ddk.Io.GetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl.InputBufferLength;
        if (length < FilterPortLimits.HeaderSize) return CompleteIrp(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        var input = irp.SystemBuffer.Span[..length];
        var header = MemoryMarshal.Read<FILTER_REPLY_HEADER>(input);
        var reply = input[FilterPortLimits.HeaderSize..];
        PortMessage? message;
        NtStatus status;
        int copied;
        lock (_lock)
        {
            if (_state != State.Connected) return CompleteIrp(irp, NtStatus.STATUS_PORT_DISCONNECTED, 0);
            if (!_awaiting.Remove(header.MessageId, out message)) return CompleteIrp(irp, NtStatus.STATUS_FLT_NO_WAITER_FOR_REPLY, 0);
            copied = Math.Min(reply.Length, message.Reply.Length);
            reply[..copied].CopyTo(message.Reply.Span);
            status = copied < reply.Length ? NtStatus.STATUS_BUFFER_OVERFLOW : NtStatus.STATUS_SUCCESS;
        }
        message.Complete(status, copied);
        return CompleteIrp(irp, NtStatus.STATUS_SUCCESS, 0);
    }

    /// <summary>The send's clock ran out: if it still waits here (queued, or for its reply), it ends with STATUS_TIMEOUT.</summary>
    public void TimeOut(PortMessage message)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(message.Port, this)) return;
            if (message.Node.List == _queue)
            {
                _queue.Remove(message.Node);
                Process?.Quota.ReturnPortMessage();
            }
            else if (message.Id == 0 || !_awaiting.TryGetValue(message.Id, out var waiting) || !ReferenceEquals(waiting, message)) return;
            else _awaiting.Remove(message.Id);
        }
        message.Complete(NtStatus.STATUS_TIMEOUT, 0);
    }

    /// <summary>FLT_CTL_SEND_MESSAGE: the user's message to the port's message callback, in the sender's context.</summary>
    public NtStatus UserSend(Irp irp)
    {
        var parameters = Ddk.Io.GetCurrentIrpStackLocation(irp).Parameters.DeviceIoControl;
        if (_state != State.Connected) return CompleteIrp(irp, NtStatus.STATUS_PORT_DISCONNECTED, 0);
        if (Server.MessageNotify is not { } notify) return CompleteIrp(irp, NtStatus.STATUS_NOT_SUPPORTED, 0);
        // One system buffer carries both ways: the callback gets the input as its own copy, as it would get separate user buffers.
        var buffer = irp.SystemBuffer;
        var inputLength = parameters.InputBufferLength;
        var outputLength = parameters.OutputBufferLength;
        var copy = inputLength > 0 && outputLength > 0 ? System.Buffers.ArrayPool<byte>.Shared.Rent(inputLength) : null;
        try
        {
            ReadOnlySpan<byte> input = buffer.Span[..inputLength];
            if (copy is not null)
            {
                input.CopyTo(copy);
                input = copy.AsSpan(0, inputLength);
            }
            NtStatus status;
            int returned;
            try
            {
                status = notify(Cookie, input, buffer.Span[..outputLength], out returned);
            }
            catch (Exception e)
            {
                status = Manager.Io.DriverFault(Server.Driver, null, e, "exception in a communication port's message callback");
                returned = 0;
            }
            return CompleteIrp(irp, status, Math.Clamp(returned, 0, outputLength));
        }
        finally
        {
            if (copy is not null) System.Buffers.ArrayPool<byte>.Shared.Return(copy);
        }
    }

    /// <summary>
    /// The connection ends. From the user's side (the handle's CLEANUP): its waiting gets are cancelled.
    /// From the kernel's (FltCloseClientPort): they fail with STATUS_PORT_DISCONNECTED. Either way the
    /// sends in flight fail with STATUS_PORT_DISCONNECTED. True for the call that ended it.
    /// </summary>
    public bool Disconnect(bool byKernel)
    {
        List<PortMessage> ended = [];
        lock (_lock)
        {
            if (_state != State.Connected) return false;
            _state = byKernel ? State.ClosedByKernel : State.ClosedByUser;
            foreach (var message in _queue)
            {
                ended.Add(message);
                Process?.Quota.ReturnPortMessage();
            }
            _queue.Clear();
            ended.AddRange(_awaiting.Values);
            _awaiting.Clear();
        }
        _getters.CompleteAll(null, byKernel ? NtStatus.STATUS_PORT_DISCONNECTED : NtStatus.STATUS_CANCELLED);
        foreach (var message in ended) message.Complete(NtStatus.STATUS_PORT_DISCONNECTED, 0);
        Server.RemoveConnection();
        return true;
    }

    /// <summary>The user's handle closed (IRP_MJ_CLEANUP): disconnect, and tell the driver unless it closed the port itself.</summary>
    public void Cleanup()
    {
        if (!Disconnect(byKernel: false)) return;
        try
        {
            Server.DisconnectNotify(Cookie);
        }
        catch (Exception e)
        {
            Manager.Io.DriverFault(Server.Driver, null, e, "exception in a communication port's disconnect callback");
        }
    }

    /// <summary>FltCloseClientPort: disconnects and drops the driver's reference, once.</summary>
    public void CloseByKernel()
    {
        if (Interlocked.Exchange(ref _kernelClosed, 1) != 0) return;
        Disconnect(byKernel: true);
        Manager.ObjectManager.Dereference(this);
    }

    private static NtStatus CompleteIrp(Irp irp, NtStatus status, int information)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = information;
        Ddk.Io.CompleteRequest(irp);
        return status;
    }
}
