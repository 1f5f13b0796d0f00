using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Gate;

/// <summary>Who is calling (process and thread, from the connection) and where the answer goes.</summary>
internal readonly struct SyscallContext(ProcessObject process, ThreadObject thread, ReplyTarget reply)
{
    public ProcessObject Process => process;
    public ThreadObject Thread => thread;
    public ReplyTarget Reply => reply;
}
