using System.Net.Sockets;
using KernelBridge.Drivers.Echo;
using KernelBridge.Drivers.EventSample;
using KernelBridge.Drivers.Null;
using KernelBridge.Drivers.PortSample;
using KernelBridge.Drivers.RamFs;
using KernelBridge.Kernel;
using KernelBridge.Kernel.Gate;
using KernelBridge.Platform;

namespace KernelBridge.Fuzz;

/// <summary>
/// A kernel booted inside the harness's own process — object manager, processes, I/O manager,
/// service table and the sample drivers — without its gate: the harness hands it connections
/// itself (<see cref="Accept"/>), each served by a real <see cref="ClientConnection"/>.
/// </summary>
public sealed class InProcessKernel : IDisposable
{
    /// <summary>Small enough that a client which asks for huge outputs is cut off quickly, as a real one would be.</summary>
    private const long MaxClientBacklog = 16 * 1024 * 1024;

    private static readonly BuiltInDriver[] Drivers =
    [
        new("Null", NullDriver.DriverEntry),
        new("Echo", EchoDriver.DriverEntry),
        new("Event_Sample", EventSampleDriver.DriverEntry),
        new(RamFsInterface.ServiceName, RamFsDriver.DriverEntry),
        new(PortSampleInterface.ServiceName, PortSampleDriver.DriverEntry),
    ];

    private readonly KernelHost _host;
    private readonly IdleMemoryTrim _trim = new();
    private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly UnixDomainSocketEndPoint _endPoint;

    public InProcessKernel()
    {
        var options = new KernelOptions { Instance = $"fuzz-{Environment.ProcessId}", Persistent = true, MaxClientBacklog = MaxClientBacklog };
        var instance = InstanceDirectory.Open(options.Instance, create: true);
        InstancePath = instance.Path;
        _host = new KernelHost(options, instance, Failures);
        foreach (var driver in Drivers)
        {
            var status = _host.DriverLoader.LoadBuiltIn(driver.ServiceName, driver.Entry);
            if (!status.IsSuccess) throw new InvalidOperationException($"driver {driver.ServiceName} did not load: {status}");
        }
        // Connections come from a socket the harness listens on itself (an abstract name: nothing on disk).
        _endPoint = new UnixDomainSocketEndPoint($"\0kbridge-fuzz-{Environment.ProcessId}-{Guid.NewGuid():N}");
        _listener.Bind(_endPoint);
        _listener.Listen(4);
    }

    /// <summary>Where the kernel's failures (and nothing else) are logged.</summary>
    public ServiceFailureLog Failures { get; } = new();

    public string InstancePath { get; }

    public int TotalObjects => (int)_host.ObjectManager.TotalObjects;

    public int TotalHandles => (int)_host.ObjectManager.TotalHandles;

    /// <summary>
    /// Objects that are not permanent: these must come back to their count once every client has run
    /// down. (A privileged client may leave a permanent named object behind, OBJ_PERMANENT, as on Windows.)
    /// Read only while no client is being served.
    /// </summary>
    public int TemporaryObjects => TotalObjects - CountPermanent(_host.ObjectManager.Root) - 1;

    private static int CountPermanent(Kernel.Ob.DirectoryObject directory)
    {
        var count = 0;
        for (var i = 0; i < directory.CountUnsynchronized; i++)
        {
            var entry = directory.EntryAtUnsynchronized(i);
            if (entry.Header.Permanent) count++;
            if (entry is Kernel.Ob.DirectoryObject inner) count += CountPermanent(inner);
        }
        return count;
    }

    /// <summary>A new client: its socket end for the harness, and the kernel's connection serving the other end.</summary>
    internal (Socket Client, ClientConnection Connection) Accept()
    {
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            client.Connect(_endPoint);
            var server = _listener.Accept();
            return (client, new ClientConnection(server, _host.Services, MaxClientBacklog, _trim, _host.Processes, Failures));
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _listener.Dispose();
        _trim.Dispose();
        _host.DriverLoader.UnloadAll();
        _host.Dispose();
        try
        {
            Directory.Delete(InstancePath, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
