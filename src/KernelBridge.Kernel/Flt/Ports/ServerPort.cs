namespace KernelBridge.Kernel.Flt.Ports;

/// <summary>
/// A server port (FilterConnectionPort): a name in the namespace, the owning driver's callbacks and
/// cookie, and the count of connections against MaxConnections. Each client port holds a reference
/// on it, so its callbacks outlive FltCloseCommunicationPort for the connections already made.
/// </summary>
internal sealed class ServerPort(DriverObject driver, string? securityDescriptor, object? cookie, FltConnectNotify connectNotify,
    FltDisconnectNotify disconnectNotify, FltMessageNotify? messageNotify, int maxConnections) : FltPort(ObjectTypes.FilterConnectionPort)
{
    private readonly Lock _lock = new();
    private int _connections;
    private bool _closed;

    public DriverObject Driver { get; } = driver;

    /// <summary>The security descriptor the port was made with (SDDL); the parsed one is the object's, checked at every connect.</summary>
    public string? SecurityDescriptor { get; } = securityDescriptor;

    public object? Cookie { get; } = cookie;
    public FltConnectNotify ConnectNotify { get; } = connectNotify;
    public FltDisconnectNotify DisconnectNotify { get; } = disconnectNotify;
    public FltMessageNotify? MessageNotify { get; } = messageNotify;
    public int MaxConnections { get; } = maxConnections;

    public int Connections
    {
        get
        {
            lock (_lock) return _connections;
        }
    }

    /// <summary>Counts a connection in, unless the port is closed or full.</summary>
    public NtStatus TryAddConnection()
    {
        lock (_lock)
        {
            if (_closed) return NtStatus.STATUS_PORT_DISCONNECTED;
            if (_connections >= MaxConnections) return NtStatus.STATUS_CONNECTION_COUNT_LIMIT;
            _connections++;
            return NtStatus.STATUS_SUCCESS;
        }
    }

    public void RemoveConnection()
    {
        lock (_lock) _connections--;
    }

    /// <summary>FltCloseCommunicationPort: no more connections; true the first time.</summary>
    public bool Close()
    {
        lock (_lock)
        {
            if (_closed) return false;
            _closed = true;
            return true;
        }
    }
}
