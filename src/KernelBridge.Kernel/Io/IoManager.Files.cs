using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Io;

internal sealed partial class IoManager
{
    /// <summary>FileCompletionInformation: the file's one completion port (referenced for the file's life) and key.</summary>
    public NtStatus AssociateCompletionPort(IoFileObject file, KQueue port, ulong key)
    {
        lock (file)
        {
            // One port per file, for the file's life.
            if (file.Port is not null) return NtStatus.STATUS_INVALID_PARAMETER;
            ObjectManager.Reference(port);
            file.Port = port;
            file.Key = key;
        }
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>SetFileCompletionNotificationModes: modes are only ever added.</summary>
    public NtStatus AddCompletionModes(IoFileObject file, CompletionModes modes)
    {
        lock (file) file.Modes |= modes;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>A snapshot of the process's requests in flight that <paramref name="match"/> selects, with their generations.</summary>
    public static List<(IoRequest Request, int Generation)> RequestsOf(ProcessObject process, Func<IoRequest, bool> match)
    {
        var selected = new List<(IoRequest, int)>();
        foreach (var request in process.PendingIo.Snapshot())
        {
            var generation = request.Generation;
            var file = request.File;
            if (file is not null && request.Kind != IoRequestKind.Housekeeping && match(request)) selected.Add((request, generation));
        }
        return selected;
    }

    /// <summary>IoCancelIrp on each of <paramref name="requests"/> still in flight; how many it reached.</summary>
    public static int Cancel(List<(IoRequest Request, int Generation)> requests)
    {
        var cancelled = 0;
        foreach (var (request, generation) in requests)
            if (request.TryCancel(generation)) cancelled++;
        return cancelled;
    }

    /// <summary>
    /// Thread exit (IoCancelThreadIo): the requests the thread issued are cancelled, except on files
    /// bound to a completion port, whose I/O belongs to no thread (thread-agnostic I/O).
    /// </summary>
    public static void CancelThreadIo(ThreadObject thread) =>
        Cancel(RequestsOf(thread.Process, r => ReferenceEquals(r.Thread, thread) && r.File.Port is null));

    /// <summary>Process rundown: every request the process has in flight is cancelled (IoCancelThreadIo for all its threads).</summary>
    public static void CancelProcessIo(ProcessObject process) => Cancel(RequestsOf(process, _ => true));
}
