using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Services;

/// <summary>NtCreateTimer, NtOpenTimer, NtSetTimer, NtCancelTimer (waitable timers).</summary>
internal sealed partial class SystemServices
{
    public void NtCreateTimer(in SyscallContext context, in NtCreateTimerRequest request, NtCreateTimerRequest.Data data)
    {
        if (request.TimerType > 1)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER_4, new HandleReply(0));
            return;
        }
        CreateNamed(context, new KTimer((TimerType)request.TimerType), request.RootDirectory, data.ObjectName, request.Attributes, request.DesiredAccess, data.SecurityDescriptor);
    }

    public void NtOpenTimer(in SyscallContext context, in NtOpenTimerRequest request, NtOpenTimerRequest.Data data) =>
        OpenNamed(context, request.RootDirectory, data.ObjectName, request.Attributes, ObjectTypes.Timer, request.DesiredAccess);

    /// <summary>Due time as an NT time; the optional completion routine runs as an APC on the setting thread; the period in ms.</summary>
    public void NtSetTimer(in SyscallContext context, in NtSetTimerRequest request)
    {
        using var timer = Reference<KTimer>(context, request.Handle, AccessMask.TIMER_MODIFY_STATE, ObjectTypes.Timer);
        if (Refused(context, timer.Status, default(StateReply))) return;
        if (request.Period < 0)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER_6, default(StateReply));
            return;
        }
        var previous = _dispatcher.ReadState(timer.Value);
        _dispatcher.SetTimer(timer.Value, request.DueTime, request.Period, null, context.Thread, request.ApcRoutine, request.ApcContext);
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new StateReply(previous, 0));
    }

    public void NtCancelTimer(in SyscallContext context, in NtCancelTimerRequest request)
    {
        using var timer = Reference<KTimer>(context, request.Handle, AccessMask.TIMER_MODIFY_STATE, ObjectTypes.Timer);
        if (Refused(context, timer.Status, default(StateReply))) return;
        _dispatcher.CancelTimer(timer.Value);
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new StateReply(_dispatcher.ReadState(timer.Value), 0));
    }
}
