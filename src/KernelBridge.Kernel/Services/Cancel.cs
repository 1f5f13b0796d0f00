using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Services;

/// <summary>NtCancelIoFile, NtCancelIoFileEx, NtCancelSynchronousIoFile.</summary>
internal sealed partial class SystemServices
{
    /// <summary>
    /// NtCancelIoFile (CancelIo): cancels the calling thread's requests on the file and answers once
    /// they have completed. Succeeds even when there was nothing to cancel.
    /// </summary>
    public void NtCancelIoFile(in SyscallContext context, in NtCancelIoFileRequest request)
    {
        IoFileObject target;
        using (var file = Reference<IoFileObject>(context, request.Handle, 0, ObjectTypes.File))
        {
            if (RefusedIo(context, file.Status)) return;
            target = file.Value;
        }
        var thread = context.Thread;
        var selected = IoManager.RequestsOf(context.Process, r => ReferenceEquals(r.File, target) && ReferenceEquals(r.Thread, thread));
        var answer = new CancelAnswer(context.Reply, selected.Count);
        foreach (var (pending, generation) in selected)
        {
            if (!pending.WhenFinished(generation, new CancelAnswer.Watch(answer))) answer.OneFinished();
            pending.TryCancel(generation);
        }
        answer.OneFinished();
    }

    /// <summary>NtCancelIoFile's answer, sent when the last of the requests it cancelled has finished.</summary>
    private sealed class CancelAnswer(ReplyTarget reply, int requests)
    {
        private int _remaining = requests + 1;

        public void OneFinished()
        {
            if (Interlocked.Decrement(ref _remaining) == 0) SucceedWithIosb(reply, NtStatus.STATUS_SUCCESS);
        }

        public sealed class Watch(CancelAnswer answer) : IoRequestWatch
        {
            public override void Finished() => answer.OneFinished();
        }
    }

    /// <summary>
    /// NtCancelIoFileEx (CancelIoEx): the process's requests on the file, all or the one issued with
    /// that IOSB; STATUS_NOT_FOUND when there is none. Does not wait.
    /// </summary>
    public void NtCancelIoFileEx(in SyscallContext context, in NtCancelIoFileExRequest request)
    {
        IoFileObject target;
        using (var file = Reference<IoFileObject>(context, request.Handle, 0, ObjectTypes.File))
        {
            if (RefusedIo(context, file.Status)) return;
            target = file.Value;
        }
        var iosb = request.IoRequestToCancel;
        var cancelled = IoManager.Cancel(IoManager.RequestsOf(context.Process, r => ReferenceEquals(r.File, target) && (iosb == 0 || r.IoStatusBlock == iosb)));
        // Nothing to cancel leaves the IOSB alone.
        if (cancelled == 0) FailIo(context, NtStatus.STATUS_NOT_FOUND);
        else SucceedWithIosb(context, NtStatus.STATUS_SUCCESS);
    }

    /// <summary>NtCancelSynchronousIoFile (CancelSynchronousIo): the synchronous request a thread of this process is blocked in.</summary>
    public void NtCancelSynchronousIoFile(in SyscallContext context, in NtCancelSynchronousIoFileRequest request)
    {
        ThreadObject target;
        using (var thread = Reference<ThreadObject>(context, request.Thread, AccessMask.THREAD_TERMINATE, ObjectTypes.Thread))
        {
            if (RefusedIo(context, thread.Status)) return;
            target = thread.Value;
        }
        var iosb = request.IoRequestToCancel;
        var cancelled = IoManager.Cancel(IoManager.RequestsOf(target.Process,
            r => ReferenceEquals(r.Thread, target) && r.Synchronous && (iosb == 0 || r.IoStatusBlock == iosb)));
        SucceedWithIosb(context, cancelled == 0 ? NtStatus.STATUS_NOT_FOUND : NtStatus.STATUS_SUCCESS);
    }
}
