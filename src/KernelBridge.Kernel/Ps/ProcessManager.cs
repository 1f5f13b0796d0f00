using System.Collections.Concurrent;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Se;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Ps;

/// <summary>Creates a process object per client connection and runs it down when the client goes.</summary>
internal sealed partial class ProcessManager(ObjectManager ob, Ke.Dispatcher dispatcher, ILogger logger)
{
    private readonly ConcurrentDictionary<ProcessObject, byte> _processes = new();

    /// <summary>Called at the start of rundown, before handles close: the I/O manager cancels the process's I/O here.</summary>
    public event Action<ProcessObject>? ProcessTerminating;

    /// <summary>A thread of a live process ended: the I/O manager cancels its I/O here (IoCancelThreadIo).</summary>
    public event Action<ThreadObject>? ThreadTerminating;

    /// <summary>Called after a process's handles have closed (drivers have seen its CLEANUPs): its address space goes here.</summary>
    public event Action<ProcessObject>? AddressSpaceDeleted;

    /// <summary>
    /// The System process: the kernel's own, never a client. Kernel handles (OBJ_KERNEL_HANDLE) live in
    /// its table, and a view mapped into it is a view in kernel space.
    /// </summary>
    public ProcessObject System { get; } = ob.Track(new ProcessObject(Environment.ProcessId, ob.Track(Token.CreateSystem()), "System"));

    public const int MaxThreadsPerProcess = 16384;

    /// <summary>What each client process may hold.</summary>
    public QuotaLimits QuotaLimits { get; init; } = new();

    public int Count => _processes.Count;

    public IReadOnlyCollection<ProcessObject> Processes => [.. _processes.Keys];

    public ProcessObject Create(int pid, uint uid, uint gid)
    {
        var process = ob.Track(new ProcessObject(pid, ob.Track(Token.ForProcess(pid, uid, gid)), ImageNameOf(pid), QuotaLimits));
        _processes[process] = 0;
        LogProcessCreated(pid, process.ImageName, uid);
        return process;
    }

    /// <summary>The thread object for a Linux thread id, made on first use; null when the process claims absurdly many threads.</summary>
    public ThreadObject? ThreadOf(ProcessObject process, int threadId)
    {
        if (process.Threads.TryGetValue(threadId, out var thread)) return thread;
        // Thread ids come from the client; a process claiming absurdly many threads is lying.
        if (process.Threads.Count >= MaxThreadsPerProcess) return null;
        var created = new ThreadObject(process, threadId);
        if (process.Threads.TryAdd(threadId, created))
        {
            ob.Track(created);
            return created;
        }
        return process.Threads[threadId];
    }

    /// <summary>
    /// Process rundown: cancel its I/O, close every handle (so drivers see IRP_MJ_CLEANUP and, once
    /// the last reference goes, IRP_MJ_CLOSE), drop its threads and finally the process object.
    /// </summary>
    public void Rundown(ProcessObject process)
    {
        if (!_processes.TryRemove(process, out _)) return;
        process.Terminating = true;
        foreach (var wait in process.PendingWaits.TakeAll()) dispatcher.AbortWait(wait, NtStatus.STATUS_PROCESS_IS_TERMINATING);
        ProcessTerminating?.Invoke(process);
        foreach (var thread in process.Threads.Values)
        {
            dispatcher.ThreadExited(thread);
            dispatcher.SignalForever(thread);
        }
        var handles = process.Handles.RemoveAll();
        foreach (var entry in handles) ob.ReleaseHandle(process, entry);
        AddressSpaceDeleted?.Invoke(process);
        foreach (var thread in process.Threads.Values) ob.Dereference(thread);
        process.Threads.Clear();
        dispatcher.SignalForever(process);
        LogRundown(process.ProcessId, handles.Count);
        ob.Dereference(process);
        ob.Dereference(process.Token); // the process's own reference to its primary token
    }

    /// <summary>
    /// Threads that have ended (their /proc entry is gone) are retired: their mutants are abandoned,
    /// their waits end, and their thread objects drop out of the process. Run now and then.
    /// </summary>
    public void ReapExitedThreads()
    {
        foreach (var process in Processes)
        {
            if (process.Terminating) continue;
            foreach (var thread in process.Threads.Values)
            {
                if (!thread.HasExited() || !process.Threads.TryRemove(thread.ThreadId, out _)) continue;
                ThreadTerminating?.Invoke(thread);
                dispatcher.ThreadExited(thread);
                dispatcher.SignalForever(thread);
                ob.Dereference(thread);
            }
        }
    }

    private static string ImageNameOf(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").Trim();
        }
        catch (IOException)
        {
            return "?";
        }
        catch (UnauthorizedAccessException)
        {
            return "?";
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "process {Pid} ({Image}) connected as uid {Uid}")]
    private partial void LogProcessCreated(int pid, string image, uint uid);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "process {Pid} ran down: {Handles} handles closed")]
    private partial void LogRundown(int pid, int handles);
}
