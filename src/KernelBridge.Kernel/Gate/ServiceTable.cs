using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Gate;

/// <summary>A system service: validates and serves one call, replying now or later through the context.</summary>
internal delegate void ServiceHandler<TRequest>(in SyscallContext context, in TRequest request, ReadOnlySpan<byte> data)
    where TRequest : unmanaged;

/// <summary>
/// KiServiceTable: one entry per <see cref="Syscall"/>, each bound to its request layout from Abi.
/// Decoding, size checks and tracing live here once, for every service.
/// </summary>
internal sealed partial class ServiceTable(ILogger logger, bool trace)
{
    private delegate void RawHandler(in SyscallContext context, ReadOnlySpan<byte> payload);

    private readonly RawHandler?[] _handlers = new RawHandler?[ushort.MaxValue + 1];
    private readonly string?[] _names = new string?[ushort.MaxValue + 1];

    public bool Trace => trace;

    public void Register<TRequest, TReply>(ServiceHandler<TRequest> handler)
        where TRequest : unmanaged, IRequest<TReply>
        where TReply : unmanaged
    {
        var number = (int)TRequest.Number;
        if (_handlers[number] is not null) throw new InvalidOperationException($"{TRequest.Number} registered twice");
        _names[number] = TRequest.Number.ToString();
        _handlers[number] = (in SyscallContext context, ReadOnlySpan<byte> payload) =>
        {
            var size = Unsafe.SizeOf<TRequest>();
            if (payload.Length < size)
                throw new ProtocolViolationException($"{TRequest.Number}: {payload.Length} bytes, the request needs {size}");
            var request = MemoryMarshal.Read<TRequest>(payload);
            if (trace) LogCall(context.Process.ProcessId, context.Thread.ThreadId, context.Reply.Sequence, request.ToString() ?? "");
            handler(in context, in request, payload[size..]);
        };
    }

    public bool IsRegistered(Syscall number) => _handlers[(int)number] is not null;

    public IEnumerable<Syscall> Registered =>
        Enumerable.Range(0, _handlers.Length).Where(i => _handlers[i] is not null).Select(i => (Syscall)i);

    /// <summary>Serves a call; an unknown number gets STATUS_INVALID_SYSTEM_SERVICE.</summary>
    public void Dispatch(in SyscallContext context, ushort number, ReadOnlySpan<byte> payload)
    {
        if (_handlers[number] is { } handler) handler(in context, payload);
        else context.Reply.Send(NtStatus.STATUS_INVALID_SYSTEM_SERVICE);
    }

    public void TraceReturn(int pid, uint sequence, Syscall number, NtStatus status)
    {
        if (trace) LogReturn(pid, sequence, number.ToString(), status.ToString());
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "[{Pid}:{Tid}] #{Sequence} {Request}")]
    private partial void LogCall(int pid, int tid, uint sequence, string request);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "[{Pid}] #{Sequence} {Service} -> {Status}")]
    private partial void LogReturn(int pid, uint sequence, string service, string status);
}
