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

    private nint _bindingPort;

    /// <summary>
    /// The connection's own completion port, to which the idiomatic layer binds overlapped files (as
    /// .NET binds handles to its thread pool's port on Windows): I/O on a bound file belongs to no
    /// thread, so a pool thread retiring does not cancel it. Nothing is ever queued to it.
    /// </summary>
    internal unsafe nint BindingPort()
    {
        if (_bindingPort != 0) return _bindingPort;
        lock (_deviceFlags)
        {
            if (_bindingPort != 0) return _bindingPort;
            nint port;
            using (Use(this))
            {
                var status = Native.Ntdll.NtCreateIoCompletion(&port, Abi.AccessMask.IO_COMPLETION_ALL_ACCESS, default, 0);
                NtStatusException.ThrowIfFailed(status, "creating the connection's binding port");
            }
            return _bindingPort = port;
        }
    }

    internal void CopyHandleFacts(nint from, nint to)
    {
        if (_deviceFlags.TryGetValue(from, out var flags)) _deviceFlags[to] = flags;
    }
}
