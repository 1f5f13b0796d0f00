using KernelBridge.Abi;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Gate;

/// <summary>
/// The connection's own completion port, to which the idiomatic layer binds overlapped files (as
/// .NET binds handles to its thread pool's port on Windows): I/O on a bound file belongs to no
/// thread, so a pool thread retiring does not cancel it. Nothing is ever queued to it. Made on first use.
/// </summary>
internal sealed class BindingPort(GateClient gate)
{
    private readonly Lock _lock = new();
    private nint _port;

    public unsafe nint Handle
    {
        get
        {
            var port = Volatile.Read(ref _port);
            if (port != 0) return port;
            lock (_lock)
            {
                if (_port != 0) return _port;
                var status = Ntdll.NtCreateIoCompletion(gate, &port, AccessMask.IO_COMPLETION_ALL_ACCESS, default, 0);
                NtStatusException.ThrowIfFailed(status, "creating the connection's binding port");
                Volatile.Write(ref _port, port);
                return port;
            }
        }
    }
}
