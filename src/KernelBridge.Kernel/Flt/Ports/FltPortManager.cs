using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ke;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Flt.Ports;

/// <summary>
/// The Filter Manager's communication ports in one kernel: server ports in the namespace, the
/// FltMgrMsg device connections are opened on, the connect, and FltSendMessage in both forms.
/// One per kernel, made by the filter manager (\Driver\FltMgr), whose driver also owns the device.
/// </summary>
internal sealed class FltPortManager
{
    public const string DeviceName = @"\FileSystem\Filters\FltMgrMsg";

    /// <summary>Made by the filter manager's DriverEntry: the message device belongs to \Driver\FltMgr.</summary>
    public FltPortManager(IoManager io, DriverObject driver)
    {
        Io = io;
        ObjectManager = io.ObjectManager;
        ObjectManager.SetProcedures(ObjectTypes.FilterCommunicationPort, new ClientPortProcedures(ObjectManager));
        foreach (var directory in new[] { @"\FileSystem", @"\FileSystem\Filters" })
        {
            var created = ObjectManager.Track(new DirectoryObject());
            // Another part of the kernel may have made it already: then that one serves.
            ObjectManager.InsertPermanent(created, directory);
            ObjectManager.Dereference(created);
        }
        var status = io.CreateDevice(driver, new FltMgrMsgDriver(this), DeviceName, (DeviceType)FltControlCodes.DeviceType, DeviceCharacteristics.None,
            exclusive: false, out var device);
        if (!status.IsSuccess) throw new InvalidOperationException($"cannot create {DeviceName}: {status}");
        device!.Flags &= ~DeviceFlags.DO_DEVICE_INITIALIZING;
        Device = device;
    }

    public IoManager Io { get; }
    public ObjectManager ObjectManager { get; }

    /// <summary>\FileSystem\Filters\FltMgrMsg.</summary>
    public DeviceObject Device { get; }

    /// <summary>FltCreateCommunicationPort.</summary>
    public NtStatus CreatePort(DriverObject driver, out FltPort? serverPort, string portName, string? securityDescriptor, object? cookie,
        FltConnectNotify connectNotify, FltDisconnectNotify disconnectNotify, FltMessageNotify? messageNotify, int maxConnections)
    {
        serverPort = null;
        if (string.IsNullOrEmpty(portName) || portName[0] != '\\') return NtStatus.STATUS_OBJECT_NAME_INVALID;
        if (connectNotify is null || disconnectNotify is null || maxConnections <= 0) return NtStatus.STATUS_INVALID_PARAMETER;
        // The descriptor guards connects (FLT_PORT_CONNECT); none (null) lets everyone connect.
        Abi.Security.SecurityDescriptor? descriptor = null;
        if (securityDescriptor is not null && Abi.Security.Sddl.TryParse(securityDescriptor, out descriptor, out _) != Win32Error.ERROR_SUCCESS)
            return NtStatus.STATUS_INVALID_PARAMETER;
        var server = ObjectManager.Track(new ServerPort(driver, securityDescriptor, cookie, connectNotify, disconnectNotify, messageNotify, maxConnections));
        if (descriptor is not null) ObjectManager.AssignKernelSecurity(server, descriptor);
        var status = ObjectManager.InsertName(server, null, portName, caseInsensitive: true);
        if (!status.IsSuccess)
        {
            ObjectManager.Dereference(server);
            return status;
        }
        serverPort = server;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>FltCloseCommunicationPort: the name goes and the driver's reference with it (once).</summary>
    public void ClosePort(FltPort serverPort)
    {
        if (serverPort is not ServerPort server) throw new ArgumentException("not a server port (FltCreateCommunicationPort's)", nameof(serverPort));
        if (!server.Close()) return;
        ObjectManager.MakeTemporary(server);
        ObjectManager.Dereference(server);
    }

    /// <summary>FltCloseClientPort.</summary>
    public static void CloseClientPort(FltPort clientPort)
    {
        if (clientPort is not ClientPort client) throw new ArgumentException("not a client port (one the connect callback got)", nameof(clientPort));
        client.CloseByKernel();
    }

    /// <summary>
    /// IRP_MJ_CREATE on FltMgrMsg: the server port <paramref name="portName"/>, a free connection on it,
    /// and the connect callback's yes. The new client port has two references: the driver's (until
    /// FltCloseClientPort) and the file object's (until IRP_MJ_CLOSE).
    /// </summary>
    public NtStatus Connect(string portName, byte[] context, out ClientPort? client)
    {
        client = null;
        var status = ObjectManager.LookupObject(portName, null, caseInsensitive: true, openLink: false, out var found, out var remaining);
        if (!status.IsSuccess) return status;
        if (found is not ServerPort server || remaining.Length != 0)
        {
            ObjectManager.Dereference(found!);
            return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
        }
        // The connecting process's token against the port's descriptor (the kernel itself always passes).
        if (CurrentContext.Process is { } connecting)
            status = ObjectManager.CheckAccess(server, connecting.Token, FilterPortAccess.FLT_PORT_CONNECT, out _);
        if (status.IsSuccess) status = server.TryAddConnection();
        if (!status.IsSuccess)
        {
            ObjectManager.Dereference(server);
            return status;
        }
        // The client port takes over the lookup's reference on the server port.
        var port = ObjectManager.Track(new ClientPort(this, server, CurrentContext.Process));
        object? cookie;
        try
        {
            status = server.ConnectNotify(port, server.Cookie, context, out cookie);
        }
        catch (Exception e)
        {
            status = Io.DriverFault(server.Driver, null, e, "exception in a communication port's connect callback");
            cookie = null;
        }
        if (!status.IsSuccess)
        {
            server.RemoveConnection();
            ObjectManager.Dereference(port);
            return status;
        }
        port.Cookie = cookie;
        ObjectManager.Reference(port);
        client = port;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>FltSendMessage without blocking: a completed task, or one the reply, delivery, timeout or disconnect completes.</summary>
    public static ValueTask<FltSendMessageResult> SendAsync(FltPort clientPort, ReadOnlyMemory<byte> sender, Memory<byte>? reply, long? timeout)
    {
        if (!Check(clientPort, sender, reply, out var client, out var refused)) return ValueTask.FromResult(new FltSendMessageResult(refused, 0));
        var message = PortMessage.Rent(client!, sender, reply, synchronous: false);
        if (!client!.Start(message, Timeouts.DeadlineOf(timeout), out var immediate)) return ValueTask.FromResult(message.EndedNow(immediate));
        return message.AsValueTask();
    }

    /// <summary>FltSendMessage, blocking: the same send, with the calling thread waiting for its end.</summary>
    public static FltSendMessageResult Send(FltPort clientPort, ReadOnlyMemory<byte> sender, Memory<byte>? reply, long? timeout)
    {
        if (!Check(clientPort, sender, reply, out var client, out var refused)) return new FltSendMessageResult(refused, 0);
        // The connecting process's requests are served in order, and this one is not finished: it could never reply.
        if (CurrentContext.Process is { } process && ReferenceEquals(process, client!.Process))
            return new FltSendMessageResult(NtStatus.STATUS_POSSIBLE_DEADLOCK, 0);
        var message = PortMessage.Rent(client!, sender, reply, synchronous: true);
        if (!client!.Start(message, Timeouts.DeadlineOf(timeout), out var immediate)) return message.EndedNow(immediate);
        return message.WaitAndReturn();
    }

    private static bool Check(FltPort clientPort, ReadOnlyMemory<byte> sender, Memory<byte>? reply, out ClientPort? client, out NtStatus refused)
    {
        client = clientPort as ClientPort;
        refused = NtStatus.STATUS_INVALID_PARAMETER;
        if (client is null) return false;
        if (sender.Length > FilterPortLimits.MaxMessageSize || reply is { Length: > FilterPortLimits.MaxMessageSize }) return false;
        return true;
    }
}
