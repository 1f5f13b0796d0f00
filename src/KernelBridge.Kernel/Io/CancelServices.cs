using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Io;

internal sealed partial class IoServices
{
    /// <summary>A snapshot of the process's requests in flight that <paramref name="match"/> selects, with their generations.</summary>
    private static List<(IoRequest Request, int Generation)> Select(ProcessObject process, Func<IoRequest, bool> match)
    {
        var selected = new List<(IoRequest, int)>();
        foreach (var key in process.PendingIo.Snapshot())
        {
            var request = (IoRequest)key;
            var generation = request.Generation;
            var file = request.File;
            if (file is not null && request.Kind != IoRequestKind.Housekeeping && match(request)) selected.Add((request, generation));
        }
        return selected;
    }

    private static void SucceedWithIosb(in SyscallContext context, NtStatus status) =>
        context.Reply.Send(status, new IoTransferReply(new IoStatusWire(status, 0, 0), IoReplyFlags.IosbWritten, 0));

    /// <summary>
    /// NtCancelIoFile (CancelIo): cancels the calling thread's requests on the file and answers once
    /// they have completed. Succeeds even when there was nothing to cancel.
    /// </summary>
    private void NtCancelIoFile(in SyscallContext context, in NtCancelIoFileRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtCancelIoFile");
        var status = ReferenceFile(context, request.Handle, 0, out var file, out _);
        if (!status.IsSuccess)
        {
            Fail(context, status);
            return;
        }
        var thread = context.Thread;
        var selected = Select(context.Process, r => ReferenceEquals(r.File, file) && ReferenceEquals(r.Thread, thread));
        Ob.Dereference(file!);
        var reply = context.Reply;
        var remaining = selected.Count + 1;
        void Done()
        {
            if (Interlocked.Decrement(ref remaining) == 0)
                reply.Send(NtStatus.STATUS_SUCCESS, new IoTransferReply(new IoStatusWire(NtStatus.STATUS_SUCCESS, 0, 0), IoReplyFlags.IosbWritten, 0));
        }
        foreach (var (pending, generation) in selected)
        {
            if (!pending.WhenFinished(generation, Done)) Done();
            pending.TryCancel(generation);
        }
        Done();
    }

    /// <summary>
    /// NtCancelIoFileEx (CancelIoEx): the process's requests on the file, all or the one issued with
    /// that IOSB; STATUS_NOT_FOUND when there is none. Does not wait.
    /// </summary>
    private void NtCancelIoFileEx(in SyscallContext context, in NtCancelIoFileExRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtCancelIoFileEx");
        var status = ReferenceFile(context, request.Handle, 0, out var file, out _);
        if (!status.IsSuccess)
        {
            Fail(context, status);
            return;
        }
        var target = request.IoRequestToCancel;
        var selected = Select(context.Process, r => ReferenceEquals(r.File, file) && (target == 0 || r.IoStatusBlock == target));
        Ob.Dereference(file!);
        var cancelled = 0;
        foreach (var (pending, generation) in selected)
            if (pending.TryCancel(generation)) cancelled++;
        // Nothing to cancel leaves the IOSB alone.
        if (cancelled == 0) Fail(context, NtStatus.STATUS_NOT_FOUND);
        else SucceedWithIosb(context, NtStatus.STATUS_SUCCESS);
    }

    /// <summary>NtCancelSynchronousIoFile (CancelSynchronousIo): the synchronous request a thread of this process is blocked in.</summary>
    private void NtCancelSynchronousIoFile(in SyscallContext context, in NtCancelSynchronousIoFileRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("NtCancelSynchronousIoFile");
        var status = ObjectManager.ReferenceByHandle(context.Process, context.Thread, request.Thread, AccessMask.THREAD_TERMINATE,
            ObjectTypes.Thread, ProcessorMode.UserMode, out var obj, out _);
        if (!status.IsSuccess)
        {
            Fail(context, status);
            return;
        }
        var thread = (ThreadObject)obj!;
        var target = request.IoRequestToCancel;
        var selected = Select(thread.Process, r => ReferenceEquals(r.Thread, thread) && r.Synchronous && (target == 0 || r.IoStatusBlock == target));
        Ob.Dereference(thread);
        var cancelled = 0;
        foreach (var (pending, generation) in selected)
            if (pending.TryCancel(generation)) cancelled++;
        SucceedWithIosb(context, cancelled == 0 ? NtStatus.STATUS_NOT_FOUND : NtStatus.STATUS_SUCCESS);
    }

    /// <summary>
    /// Thread exit (IoCancelThreadIo): the requests the thread issued are cancelled, except on files
    /// bound to a completion port, whose I/O belongs to no thread (thread-agnostic I/O).
    /// </summary>
    public static void CancelThreadIo(ThreadObject thread)
    {
        foreach (var (pending, generation) in Select(thread.Process, r => ReferenceEquals(r.Thread, thread) && r.File.Port is null))
            pending.TryCancel(generation);
    }

    /// <summary>Process rundown: every request the process has in flight is cancelled (IoCancelThreadIo for all its threads).</summary>
    public static void CancelProcessIo(ProcessObject process)
    {
        foreach (var (pending, generation) in Select(process, _ => true)) pending.TryCancel(generation);
    }
}
