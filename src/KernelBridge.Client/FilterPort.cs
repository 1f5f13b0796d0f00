using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Client;

/// <summary>
/// A connection to a minifilter's communication port, the idiomatic face over FltLib: messages as an
/// <see cref="IAsyncEnumerable{T}"/>, typed replies, typed requests to the port's message callback.
/// Nothing blocks a thread while waiting for a message. Errors throw <see cref="NtStatusException"/>.
/// Disposing disconnects (the filter's disconnect callback runs).
/// </summary>
public sealed class FilterPort : IDisposable
{
    private FilterPort(KernelHandle handle, string name)
    {
        Handle = handle;
        Name = name;
    }

    public KernelHandle Handle { get; }

    /// <summary>The port's name (\ScannerPort).</summary>
    public string Name { get; }

    /// <summary>FilterConnectCommunicationPort: connects, handing <paramref name="context"/> to the port's connect callback.</summary>
    public static unsafe FilterPort Connect(string portName, ReadOnlySpan<byte> context = default, GateClient? gate = null)
    {
        ArgumentNullException.ThrowIfNull(portName);
        if (context.Length > FilterPortLimits.MaxContextSize) throw new ArgumentOutOfRangeException(nameof(context), "a connection context is at most 65,535 bytes");
        gate ??= GateClient.Current;
        nint handle;
        var status = Ntdll.NtFltConnectCommunicationPort(gate, &handle, portName, 0, context,
            AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE | AccessMask.SYNCHRONIZE, 0);
        if (!status.IsSuccess) throw new NtStatusException(status, $"connecting to {portName}");
        var port = new FilterPort(new KernelHandle(handle, gate), portName);
        // Thread-agnostic I/O, as DeviceFile.OpenOverlapped: a get outlives the thread that asked for it.
        var information = new FILE_COMPLETION_INFORMATION { Port = gate.BindingPort.Handle, Key = 0 };
        IO_STATUS_BLOCK iosb = default;
        status = Ntdll.NtSetInformationFile(gate, handle, &iosb, &information, (uint)sizeof(FILE_COMPLETION_INFORMATION),
            FileInformationClass.FileCompletionInformation);
        if (!status.IsSuccess)
        {
            port.Dispose();
            throw new NtStatusException(status, $"binding the connection to {portName}");
        }
        return port;
    }

    /// <summary>FilterGetMessage, awaited: the next message (at most <paramref name="bufferSize"/> bytes of it). Cancelling cancels the get.</summary>
    public async ValueTask<FilterMessage> GetMessageAsync(int bufferSize = 4096, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        var buffer = new byte[FilterPortLimits.HeaderSize + bufferSize];
        var result = await ControlAsync(FltControlCodes.FLT_CTL_GET_MESSAGE, default, buffer, cancellationToken).ConfigureAwait(false);
        return FilterMessage.Parse(buffer, result.Information, result.IsPartial);
    }

    /// <summary>
    /// The messages, one FilterGetMessage at a time, until the token is cancelled or the filter closes
    /// the connection (then the enumeration ends).
    /// </summary>
    public async IAsyncEnumerable<FilterMessage> GetMessagesAsync(int bufferSize = 4096, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            FilterMessage message;
            try
            {
                message = await GetMessageAsync(bufferSize, cancellationToken).ConfigureAwait(false);
            }
            catch (NtStatusException e) when ((e.Status == NtStatus.STATUS_CANCELLED && cancellationToken.IsCancellationRequested)
                || e.Status == NtStatus.STATUS_PORT_DISCONNECTED)
            {
                yield break;
            }
            yield return message;
        }
    }

    /// <summary>FilterReplyMessage with <paramref name="reply"/> as the reply's bytes.</summary>
    public ValueTask ReplyAsync<T>(FilterMessage message, T reply, CancellationToken cancellationToken = default) where T : unmanaged =>
        ReplyAsync(message, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(ref reply)), cancellationToken);

    /// <summary>
    /// FilterReplyMessage. A message nobody waits for any more (answered, timed out, or sent without a
    /// reply buffer) throws with STATUS_FLT_NO_WAITER_FOR_REPLY.
    /// </summary>
    public ValueTask ReplyAsync(FilterMessage message, ReadOnlySpan<byte> reply, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        var buffer = new byte[FilterPortLimits.HeaderSize + reply.Length];
        var header = new FILTER_REPLY_HEADER { Status = 0, MessageId = message.MessageId };
        MemoryMarshal.Write(buffer, in header);
        reply.CopyTo(buffer.AsSpan(FilterPortLimits.HeaderSize));
        return ReplyBytesAsync(buffer, cancellationToken);
    }

    private async ValueTask ReplyBytesAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var result = await ControlAsync(FltControlCodes.FLT_CTL_REPLY_MESSAGE, buffer, default, cancellationToken).ConfigureAwait(false);
        if (!result.Status.IsSuccess) throw new NtStatusException(result.Status, $"replying on {Name}");
    }

    /// <summary>FilterSendMessage: <paramref name="input"/> to the port's message callback, its answer read as <typeparamref name="TOut"/>.</summary>
    public async ValueTask<TOut> SendAsync<TIn, TOut>(TIn input, CancellationToken cancellationToken = default) where TIn : unmanaged where TOut : unmanaged
    {
        var output = new byte[Unsafe.SizeOf<TOut>()];
        var result = await ControlAsync(FltControlCodes.FLT_CTL_SEND_MESSAGE, MemoryMarshal.AsBytes(new ReadOnlySpan<TIn>(ref input)).ToArray(), output,
            cancellationToken).ConfigureAwait(false);
        if (!result.Status.IsSuccess) throw new NtStatusException(result.Status, $"sending on {Name}");
        if (result.Information < Unsafe.SizeOf<TOut>())
            throw new NtStatusException(NtStatus.STATUS_BUFFER_TOO_SMALL, $"sending on {Name}", $"the answer was {result.Information} bytes, not {Unsafe.SizeOf<TOut>()}");
        return MemoryMarshal.Read<TOut>(output);
    }

    private unsafe ValueTask<IoResult> ControlAsync(CtlCode code, ReadOnlyMemory<byte> input, Memory<byte> output, CancellationToken cancellationToken)
    {
        var io = AsyncIo.Rent(Handle.Gate, input, output, IoOperation.Control(code.Value, Name));
        io.CancelWith(Handle.Gate, Handle.Value, cancellationToken);
        var status = Ntdll.NtDeviceIoControlFile(Handle.Gate, Handle.Value, 0, 0, 0, io.IoStatusBlock, code.Value, input.IsEmpty ? null : io.InputPointer,
            (uint)input.Length, output.IsEmpty ? null : io.OutputPointer, (uint)output.Length, io.Completed);
        return io.Issued(status, cancellationToken);
    }

    public void Dispose() => Handle.Dispose();
}
