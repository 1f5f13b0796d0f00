using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Ke;

/// <summary>NtCreateEvent, NtOpenEvent, NtSetEvent, NtResetEvent, NtPulseEvent, NtQueryEvent (KeSetEvent is in the dispatcher).</summary>
internal sealed partial class KeServices
{
    private void RegisterEvents(ServiceTable table)
    {
        table.Register<NtCreateEventRequest, HandleReply>(NtCreateEvent);
        table.Register<NtOpenEventRequest, HandleReply>(NtOpenEvent);
        table.Register<NtSetEventRequest, StateReply>(NtSetEvent);
        table.Register<NtResetEventRequest, StateReply>(NtResetEvent);
        table.Register<NtPulseEventRequest, StateReply>(NtPulseEvent);
        table.Register<NtQueryEventRequest, QueryStateReply>(NtQueryEvent);
    }

    private void NtCreateEvent(in SyscallContext context, in NtCreateEventRequest request, ReadOnlySpan<byte> data)
    {
        var name = ReadName(data, request.NameBytes, "NtCreateEvent");
        if (request.EventType > 1)
        {
            context.Reply.Send(NtStatus.STATUS_INVALID_PARAMETER, new HandleReply(0));
            return;
        }
        Create(context, new KEvent((EventType)request.EventType, request.InitialState != 0), request.RootDirectory, name, request.Attributes, request.DesiredAccess);
    }

    private void NtOpenEvent(in SyscallContext context, in NtOpenEventRequest request, ReadOnlySpan<byte> data) =>
        Open(context, request.RootDirectory, ReadName(data, request.NameBytes, "NtOpenEvent"), request.Attributes, ObjectTypes.Event, request.DesiredAccess);

    private void EventOperation(in SyscallContext context, long handle, ReadOnlySpan<byte> data, string service, Func<KEvent, int> operation) =>
        Operate<KEvent, StateReply>(context, handle, AccessMask.EVENT_MODIFY_STATE, ObjectTypes.Event, data, service,
            kevent => (NtStatus.STATUS_SUCCESS, new StateReply(operation(kevent), 0)));

    private void NtSetEvent(in SyscallContext context, in NtSetEventRequest request, ReadOnlySpan<byte> data) =>
        EventOperation(context, request.Handle, data, "NtSetEvent", dispatcher.SetEvent);

    private void NtResetEvent(in SyscallContext context, in NtResetEventRequest request, ReadOnlySpan<byte> data) =>
        EventOperation(context, request.Handle, data, "NtResetEvent", dispatcher.ResetEvent);

    private void NtPulseEvent(in SyscallContext context, in NtPulseEventRequest request, ReadOnlySpan<byte> data) =>
        EventOperation(context, request.Handle, data, "NtPulseEvent", dispatcher.PulseEvent);

    private void NtQueryEvent(in SyscallContext context, in NtQueryEventRequest request, ReadOnlySpan<byte> data) =>
        Operate<KEvent, QueryStateReply>(context, request.Handle, AccessMask.EVENT_QUERY_STATE, ObjectTypes.Event, data, "NtQueryEvent",
            kevent => (NtStatus.STATUS_SUCCESS, new QueryStateReply((int)kevent.Type, Volatile.Read(ref kevent.SignalState), 0, 0)));
}
