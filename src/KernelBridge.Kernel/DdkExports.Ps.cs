using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel;

/// <summary>PsXxx: the process the running driver code serves.</summary>
internal sealed partial class DdkExports
{
    public int CurrentProcessId => CurrentContext.Process?.ProcessId ?? Environment.ProcessId;
    public KernelObject? CurrentProcess => CurrentContext.Process;
}
