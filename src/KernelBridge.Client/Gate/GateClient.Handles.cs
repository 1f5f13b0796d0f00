using System.Collections.Concurrent;

namespace KernelBridge.Client.Gate;

public sealed partial class GateClient
{
    // What this process learned about its handles when it opened them: the device's DO_* flags.
    // A read on a buffered device need not ship the caller's buffer to the kernel.
    private readonly ConcurrentDictionary<nint, uint> _deviceFlags = new();

    internal void RememberDeviceFlags(nint handle, uint flags) => _deviceFlags[handle] = flags;

    internal bool TryGetDeviceFlags(nint handle, out uint flags) => _deviceFlags.TryGetValue(handle, out flags);

    internal void ForgetHandle(nint handle) => _deviceFlags.TryRemove(handle, out _);

    internal void CopyHandleFacts(nint from, nint to)
    {
        if (_deviceFlags.TryGetValue(from, out var flags)) _deviceFlags[to] = flags;
    }
}
