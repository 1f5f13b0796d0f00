using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Services;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// The gate's entry to the system services: the generated dispatch decodes and checks a request
/// and calls its handler; an unknown number gets STATUS_INVALID_SYSTEM_SERVICE. Tracing names
/// every field of every request (the generated formatter), only when asked for.
/// </summary>
internal sealed partial class ServiceTable(SystemServices services, ILogger logger, bool trace)
{
    public bool Trace => trace;

    /// <summary>Serves a call.</summary>
    public void Dispatch(in SyscallContext context, ushort number, ReadOnlySpan<byte> payload)
    {
        if (trace) LogCall(context.Process.ProcessId, context.Thread.ThreadId, context.Reply.Sequence, SyscallTable.DescribeRequest(number, payload));
        if (!SyscallDispatch.Dispatch(services, in context, number, payload)) context.Reply.Send(NtStatus.STATUS_INVALID_SYSTEM_SERVICE);
    }

    public void TraceReturn(int pid, uint sequence, Syscall number, NtStatus status)
    {
        if (trace) LogReturn(pid, sequence, SyscallTable.Name((ushort)number) ?? number.ToString(), status.ToString());
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "[{Pid}:{Tid}] #{Sequence} {Request}")]
    private partial void LogCall(int pid, int tid, uint sequence, string request);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "[{Pid}] #{Sequence} {Service} -> {Status}")]
    private partial void LogReturn(int pid, uint sequence, string service, string status);
}
