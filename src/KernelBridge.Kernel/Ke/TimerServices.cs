using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Ke;

/// <summary>NtCreateTimer, NtOpenTimer, NtSetTimer, NtCancelTimer (waitable timers).</summary>
internal sealed partial class KeServices
{
    private void RegisterTimers(ServiceTable table)
    {
        table.Register<NtCreateTimerRequest, HandleReply>(NtCreateTimer);
        table.Register<NtOpenTimerRequest, HandleReply>(NtOpenTimer);
        table.Register<NtSetTimerRequest, StateReply>(NtSetTimer);
        table.Register<NtCancelTimerRequest, StateReply>(NtCancelTimer);
    }

    private void NtCreateTimer(in SyscallContext context, in NtCreateTimerRequest request, ReadOnlySpan<byte> data)
    {
        var name = ReadName(data, request.NameBytes, "NtCreateTimer");
        if (request.TimerType > 1)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER_4, new HandleReply(0));
            return;
        }
        Create(context, new KTimer((TimerType)request.TimerType), request.RootDirectory, name, request.Attributes, request.DesiredAccess);
    }

    private void NtOpenTimer(in SyscallContext context, in NtOpenTimerRequest request, ReadOnlySpan<byte> data) =>
        Open(context, request.RootDirectory, ReadName(data, request.NameBytes, "NtOpenTimer"), request.Attributes, ObjectTypes.Timer, request.DesiredAccess);

    private void NtSetTimer(in SyscallContext context, in NtSetTimerRequest request, ReadOnlySpan<byte> data)
    {
        var (thread, due, period, routine, apcContext) = (context.Thread, request.DueTime, request.Period, request.ApcRoutine, request.ApcContext);
        Operate<KTimer, StateReply>(context, request.Handle, AccessMask.TIMER_MODIFY_STATE, ObjectTypes.Timer, data, "NtSetTimer", timer =>
        {
            if (period < 0) return (NtStatus.STATUS_INVALID_PARAMETER_6, default);
            var previous = Volatile.Read(ref timer.SignalState);
            dispatcher.SetTimer(timer, due, period, null, thread, routine, apcContext);
            return (NtStatus.STATUS_SUCCESS, new StateReply(previous, 0));
        });
    }

    private void NtCancelTimer(in SyscallContext context, in NtCancelTimerRequest request, ReadOnlySpan<byte> data) =>
        Operate<KTimer, StateReply>(context, request.Handle, AccessMask.TIMER_MODIFY_STATE, ObjectTypes.Timer, data, "NtCancelTimer", timer =>
        {
            dispatcher.CancelTimer(timer);
            return (NtStatus.STATUS_SUCCESS, new StateReply(Volatile.Read(ref timer.SignalState), 0));
        });
}
