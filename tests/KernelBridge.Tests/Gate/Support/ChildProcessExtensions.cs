using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate.Support;

internal static class ChildProcessExtensions
{
    /// <summary>
    /// Waits (bounded) for the process to exit and then for its redirected output to be fully
    /// read: Process.WaitForExit(timeout) alone returns before the asynchronous readers have seen
    /// the last lines, so <see cref="ChildProcess.Output"/> could still miss them.
    /// </summary>
    public static bool WaitForExitAndOutput(this ChildProcess child, TimeSpan timeout)
    {
        if (!child.WaitForExit(timeout)) return false;
        // The process has exited: this only drains the pipes (the kernel starts no children that could hold them).
        child.Process.WaitForExit();
        return true;
    }
}
