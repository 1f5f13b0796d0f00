using System.Diagnostics.CodeAnalysis;
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
        if (!TryIdentify<IoFileObject>(context, request.Handle, 0, ObjectTypes.File, out var target)) return;
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

    /// <summary>
    /// The object a cancel names (only its identity matters: the requests are matched against it, so
    /// the reference ends here); false, with the failure answered, for a bad handle.
    /// </summary>
    private bool TryIdentify<T>(in SyscallContext context, long handle, uint access, ObjectType type, [NotNullWhen(true)] out T? target)
        where T : KernelObject
    {
        using var obj = Reference<T>(context, handle, access, type);
        target = obj.Status.IsSuccess ? obj.Value : null;
        return !RefusedIo(context, obj.Status);
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
        if (!TryIdentify<IoFileObject>(context, request.Handle, 0, ObjectTypes.File, out var target)) return;
        var iosb = request.IoRequestToCancel;
        var cancelled = IoManager.Cancel(IoManager.RequestsOf(context.Process, r => ReferenceEquals(r.File, target) && (iosb == 0 || r.IoStatusBlock == iosb)));
        // Nothing to cancel leaves the IOSB alone.
        if (cancelled == 0) FailIo(context, NtStatus.STATUS_NOT_FOUND);
        else SucceedWithIosb(context, NtStatus.STATUS_SUCCESS);
    }

    /// <summary>NtCancelSynchronousIoFile (CancelSynchronousIo): the synchronous request a thread of this process is blocked in.</summary>
    public void NtCancelSynchronousIoFile(in SyscallContext context, in NtCancelSynchronousIoFileRequest request)
    {
        if (!TryIdentify<ThreadObject>(context, request.Thread, AccessMask.THREAD_TERMINATE, ObjectTypes.Thread, out var target)) return;
        var iosb = request.IoRequestToCancel;
        var cancelled = IoManager.Cancel(IoManager.RequestsOf(target.Process,
            r => ReferenceEquals(r.Thread, target) && r.Synchronous && (iosb == 0 || r.IoStatusBlock == iosb)));
        SucceedWithIosb(context, cancelled == 0 ? NtStatus.STATUS_NOT_FOUND : NtStatus.STATUS_SUCCESS);
    }
}
