using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Services;

/// <summary>NtCreateEvent, NtOpenEvent, NtSetEvent, NtResetEvent, NtPulseEvent, NtQueryEvent (KeSetEvent is the dispatcher's).</summary>
internal sealed partial class SystemServices
{
    public void NtCreateEvent(in SyscallContext context, in NtCreateEventRequest request, NtCreateEventRequest.Data data)
    {
        if (request.EventType > 1)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new HandleReply(0));
            return;
        }
        CreateNamed(context, new KEvent((EventType)request.EventType, request.InitialState != 0), request.RootDirectory, data.ObjectName,
            request.Attributes, request.DesiredAccess, data.SecurityDescriptor);
    }

    public void NtOpenEvent(in SyscallContext context, in NtOpenEventRequest request, NtOpenEventRequest.Data data) =>
        OpenNamed(context, request.RootDirectory, data.ObjectName, request.Attributes, ObjectTypes.Event, request.DesiredAccess);

    public void NtSetEvent(in SyscallContext context, in NtSetEventRequest request)
    {
        using var kevent = Reference<KEvent>(context, request.Handle, AccessMask.EVENT_MODIFY_STATE, ObjectTypes.Event);
        context.Reply.Send(kevent.Status, new StateReply(kevent.Status.IsSuccess ? _dispatcher.SetEvent(kevent.Value) : 0, 0));
    }

    public void NtResetEvent(in SyscallContext context, in NtResetEventRequest request)
    {
        using var kevent = Reference<KEvent>(context, request.Handle, AccessMask.EVENT_MODIFY_STATE, ObjectTypes.Event);
        context.Reply.Send(kevent.Status, new StateReply(kevent.Status.IsSuccess ? _dispatcher.ResetEvent(kevent.Value) : 0, 0));
    }

    public void NtPulseEvent(in SyscallContext context, in NtPulseEventRequest request)
    {
        using var kevent = Reference<KEvent>(context, request.Handle, AccessMask.EVENT_MODIFY_STATE, ObjectTypes.Event);
        context.Reply.Send(kevent.Status, new StateReply(kevent.Status.IsSuccess ? _dispatcher.PulseEvent(kevent.Value) : 0, 0));
    }

    /// <summary>EVENT_BASIC_INFORMATION: {type, state}.</summary>
    public void NtQueryEvent(in SyscallContext context, in NtQueryEventRequest request)
    {
        using var kevent = Reference<KEvent>(context, request.Handle, AccessMask.EVENT_QUERY_STATE, ObjectTypes.Event);
        context.Reply.Send(kevent.Status, kevent.Status.IsSuccess
            ? new QueryStateReply((int)kevent.Value.Type, _dispatcher.ReadState(kevent.Value), 0, 0)
            : default);
    }
}
