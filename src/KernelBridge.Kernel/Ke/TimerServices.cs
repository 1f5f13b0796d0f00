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
        new WireReader(data).EnsureEnd("NtSetTimer");
        if (request.Period < 0)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER_6, new StateReply());
            return;
        }
        var status = Reference<KTimer>(context, request.Handle, AccessMask.TIMER_MODIFY_STATE, ObjectTypes.Timer, out var timer);
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, new StateReply());
            return;
        }
        var previous = Volatile.Read(ref timer!.SignalState);
        dispatcher.SetTimer(timer, request.DueTime, request.Period, null, context.Thread, request.ApcRoutine, request.ApcContext);
        ob.Dereference(timer);
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new StateReply(previous, 0));
    }

    private void NtCancelTimer(in SyscallContext context, in NtCancelTimerRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtCancelTimer");
        var status = Reference<KTimer>(context, request.Handle, AccessMask.TIMER_MODIFY_STATE, ObjectTypes.Timer, out var timer);
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, new StateReply());
            return;
        }
        dispatcher.CancelTimer(timer!);
        var current = Volatile.Read(ref timer!.SignalState);
        ob.Dereference(timer);
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new StateReply(current, 0));
    }
}
