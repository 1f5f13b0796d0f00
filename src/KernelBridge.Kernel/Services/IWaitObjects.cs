using KernelBridge.Ddk;

namespace KernelBridge.Kernel.Services;

/// <summary>A parked wait being filled with the objects a caller named (WaitCall, Win32kWaitCall).</summary>
internal interface IWaitObjects
{
    void Add(KernelObject obj, DispatcherObject waitable);
    bool Contains(DispatcherObject waitable);
}
