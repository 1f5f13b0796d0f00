using KernelBridge.Abi;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Io;

/// <summary>
/// Who will hear of an I/O request's completion: the caller's event (referenced, and reset now),
/// its APC, its IOSB. Checked before the IRP is built, as IopXxxControlFile does.
/// </summary>
internal readonly struct CompletionBinding
{
    private CompletionBinding(KEvent? kevent, ulong apcRoutine, ulong apcContext, ulong ioStatusBlock)
    {
        Event = kevent;
        ApcRoutine = apcRoutine;
        ApcContext = apcContext;
        IoStatusBlock = ioStatusBlock;
    }

    public KEvent? Event { get; }
    public ulong ApcRoutine { get; }
    public ulong ApcContext { get; }
    public ulong IoStatusBlock { get; }

    public static NtStatus Bind(in SyscallContext context, IoManager io, IoFileObject file, long eventHandle, ulong apcRoutine,
        ulong apcContext, ulong ioStatusBlock, out CompletionBinding binding)
    {
        binding = default;
        // An APC and a completion port are either-or.
        if (apcRoutine != 0 && file.Port is not null) return NtStatus.STATUS_INVALID_PARAMETER;
        KEvent? kevent = null;
        if (eventHandle != 0)
        {
            var status = ObjectManager.ReferenceByHandle(context.Process, context.Thread, eventHandle, AccessMask.EVENT_MODIFY_STATE,
                ObjectTypes.Event, ProcessorMode.UserMode, out var obj, out _);
            if (!status.IsSuccess) return status;
            kevent = (KEvent)obj!;
            io.Dispatcher.ResetEvent(kevent);
        }
        io.Dispatcher.ResetEvent(file.Event);
        binding = new CompletionBinding(kevent, apcRoutine, apcContext, ioStatusBlock);
        return NtStatus.STATUS_SUCCESS;
    }

    public void ApplyTo(IoRequest request)
    {
        request.Event = Event;
        request.ApcRoutine = ApcRoutine;
        request.ApcContext = ApcContext;
        request.IoStatusBlock = IoStatusBlock;
    }
}
