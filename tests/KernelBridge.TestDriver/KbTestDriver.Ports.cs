using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.TestDriver;

/// <summary>The test driver's communication ports: made, driven and closed by the test through IOCTLs.</summary>
public sealed partial class KbTestDriver
{
    private sealed class PortState(PortCreateRequest settings, DriverObject driver)
    {
        public PortCreateRequest Settings { get; } = settings;
        public DriverObject Driver { get; } = driver;
        public FltPort? Server;
        public readonly List<FltPort> Clients = [];
        public int Connects, Refused, Disconnects, UserMessages, SendsStarted;
        public byte[] LastContext = [];
    }

    /// <summary>The connection cookie: which port, and the client port to close when the user goes.</summary>
    private sealed class Connection(PortState port, FltPort client)
    {
        public PortState Port { get; } = port;
        public FltPort? Client = client;
    }

    private static readonly ConcurrentDictionary<string, PortState> Ports = new(StringComparer.OrdinalIgnoreCase);

    private static NtStatus PortControl(DeviceObject device, Irp irp, CtlCode code, ReadOnlySpan<byte> input, int outputLength)
    {
        if (code == KbTestPortsInterface.IOCTL_KBTEST_PORT_CREATE) return CreatePort(device, irp, input);
        if (code == KbTestPortsInterface.IOCTL_KBTEST_PORT_SEND) return SendOnPort(device, irp, input, outputLength);
        if (code == KbTestPortsInterface.IOCTL_KBTEST_PORT_CLOSE_CLIENT)
        {
            if (input.Length < 4 || !Ports.TryGetValue(NameAfter(input, 4), out var port)) return Complete(irp, NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, 0);
            FltPort? client;
            lock (port)
            {
                var index = MemoryMarshal.Read<int>(input);
                if (index < 0 || index >= port.Clients.Count) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
                client = port.Clients[index];
                port.Clients.RemoveAt(index);
            }
            Flt.CloseClientPort(device.DriverObject, ref client);
            return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
        }
        if (code == KbTestPortsInterface.IOCTL_KBTEST_PORT_CLOSE_SERVER)
        {
            // The books stay: connections made before the close still carry messages.
            if (!Ports.TryGetValue(NameAfter(input, 0), out var port)) return Complete(irp, NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, 0);
            var server = Interlocked.Exchange(ref port.Server, null);
            if (server is not null) Flt.CloseCommunicationPort(server);
            return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
        }
        if (code == KbTestPortsInterface.IOCTL_KBTEST_PORT_STATE)
        {
            if (!Ports.TryGetValue(NameAfter(input, 0), out var port)) return Complete(irp, NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, 0);
            var size = Marshal.SizeOf<PortStateInfo>();
            lock (port)
            {
                var info = new PortStateInfo(port.Connects, port.Refused, port.Disconnects, port.Clients.Count, port.UserMessages, port.LastContext.Length,
                    Volatile.Read(ref port.SendsStarted));
                if (outputLength < size + port.LastContext.Length) return Complete(irp, NtStatus.STATUS_BUFFER_TOO_SMALL, 0);
                MemoryMarshal.Write(irp.SystemBuffer.Span, in info);
                port.LastContext.CopyTo(irp.SystemBuffer.Span[size..]);
                return Complete(irp, NtStatus.STATUS_SUCCESS, size + port.LastContext.Length);
            }
        }
        return Complete(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST, 0);
    }

    /// <summary>DriverUnload: every port this driver made, and every connection to them, closed (as FltUnregisterFilter requires).</summary>
    private static void ClosePorts(DriverObject driver)
    {
        foreach (var (name, port) in Ports)
        {
            if (!ReferenceEquals(port.Driver, driver)) continue;
            Ports.TryRemove(name, out _);
            List<FltPort> clients;
            lock (port)
            {
                clients = [.. port.Clients];
                port.Clients.Clear();
            }
            foreach (var client in clients)
            {
                FltPort? closing = client;
                Flt.CloseClientPort(driver, ref closing);
            }
            if (Interlocked.Exchange(ref port.Server, null) is { } server) Flt.CloseCommunicationPort(server);
        }
    }

    private static string NameAfter(ReadOnlySpan<byte> input, int offset) => Encoding.Unicode.GetString(input[offset..]);

    private static NtStatus CreatePort(DeviceObject device, Irp irp, ReadOnlySpan<byte> input)
    {
        var size = Marshal.SizeOf<PortCreateRequest>();
        if (input.Length < size) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        var settings = MemoryMarshal.Read<PortCreateRequest>(input);
        var name = NameAfter(input, size);
        var port = new PortState(settings, device.DriverObject);
        var status = Flt.CreateCommunicationPort(device.DriverObject, out port.Server, name, Flt.BuildDefaultSecurityDescriptor(FilterPortAccess.FLT_PORT_ALL_ACCESS), port, OnConnect, OnDisconnect,
            settings.WithMessageCallback != 0 ? OnUserMessage : null, settings.MaxConnections);
        if (status.IsSuccess) Ports[name] = port;
        return Complete(irp, status, 0);
    }

    private static NtStatus OnConnect(FltPort clientPort, object? serverPortCookie, ReadOnlySpan<byte> context, out object? connectionCookie)
    {
        var port = (PortState)serverPortCookie!;
        lock (port)
        {
            port.LastContext = context.ToArray();
            if (port.Settings.RefuseStatus != 0)
            {
                port.Refused++;
                connectionCookie = null;
                return new NtStatus(port.Settings.RefuseStatus);
            }
            port.Connects++;
            port.Clients.Add(clientPort);
        }
        connectionCookie = new Connection(port, clientPort);
        return NtStatus.STATUS_SUCCESS;
    }

    private static void OnDisconnect(object? connectionCookie)
    {
        var connection = (Connection)connectionCookie!;
        var port = connection.Port;
        bool ours;
        lock (port)
        {
            port.Disconnects++;
            ours = port.Clients.Remove(connection.Client!);
        }
        // The port may have been closed by IOCTL_KBTEST_PORT_CLOSE_CLIENT already: then not again.
        if (ours) Flt.CloseClientPort(port.Driver, ref connection.Client);
    }

    private static NtStatus OnUserMessage(object? portCookie, ReadOnlySpan<byte> input, Span<byte> output, out int returned)
    {
        var port = ((Connection)portCookie!).Port;
        Interlocked.Increment(ref port.UserMessages);
        if (input.IsEmpty)
        {
            returned = 0;
            return new NtStatus(port.Settings.MessageStatus);
        }
        returned = Math.Min(input.Length, output.Length);
        for (var i = 0; i < returned; i++) output[i] = (byte)(input[i] + 1);
        return returned < input.Length ? NtStatus.STATUS_BUFFER_OVERFLOW : NtStatus.STATUS_SUCCESS;
    }

    private static NtStatus SendOnPort(DeviceObject device, Irp irp, ReadOnlySpan<byte> input, int outputLength)
    {
        var size = Marshal.SizeOf<PortSendRequest>();
        if (input.Length < size) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        var request = MemoryMarshal.Read<PortSendRequest>(input);
        if (!Ports.TryGetValue(NameAfter(input, size), out var port)) return Complete(irp, NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, 0);
        FltPort? client;
        lock (port) client = request.Client >= 0 && request.Client < port.Clients.Count ? port.Clients[request.Client] : null;
        if (client is null || request.Count < 0) return Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0);
        var driver = device.DriverObject;
        Interlocked.Add(ref port.SendsStarted, request.Count);
        if (request.Mode == PortSendMode.BlockingInDispatch)
        {
            var outcomes = new PortSendOutcome[request.Count];
            for (var i = 0; i < request.Count; i++) outcomes[i] = SendOneBlocking(driver, client, request, i);
            return Finish(irp, outcomes, outputLength);
        }
        Io.MarkIrpPending(irp);
        _ = Task.Run(async () =>
        {
            var outcomes = new PortSendOutcome[request.Count];
            for (var i = 0; i < request.Count; i++)
                outcomes[i] = request.Mode == PortSendMode.Async ? await SendOneAsync(driver, client, request, i).ConfigureAwait(false)
                    : SendOneBlocking(driver, client, request, i);
            Finish(irp, outcomes, outputLength);
        });
        return NtStatus.STATUS_PENDING;
    }

    private static byte[] MessageOf(PortSendRequest request, int index)
    {
        var message = new byte[request.MessageLength];
        for (var j = 0; j < message.Length; j++) message[j] = (byte)(index + j);
        return message;
    }

    private static async Task<PortSendOutcome> SendOneAsync(DriverObject driver, FltPort client, PortSendRequest request, int index)
    {
        var reply = request.ReplyLength >= 0 ? new byte[request.ReplyLength] : null;
        // A null array would become an empty buffer, not "no reply": say null explicitly.
        var result = await Flt.SendMessageAsync(driver, client, MessageOf(request, index), reply is null ? (Memory<byte>?)null : reply, request.HasTimeout != 0 ? request.Timeout : null)
            .ConfigureAwait(false);
        return OutcomeOf(result.Status, result.ReplyLength, reply);
    }

    private static PortSendOutcome SendOneBlocking(DriverObject driver, FltPort client, PortSendRequest request, int index)
    {
        var reply = request.ReplyLength >= 0 ? new byte[request.ReplyLength] : null;
        FltPort? port = client;
        var status = Flt.SendMessage(driver, ref port, MessageOf(request, index), reply is null ? (Memory<byte>?)null : reply, out var replyLength,
            request.HasTimeout != 0 ? request.Timeout : null);
        return OutcomeOf(status, replyLength, reply);
    }

    private static PortSendOutcome OutcomeOf(NtStatus status, int replyLength, byte[]? reply) =>
        new(status.Value, replyLength, reply is { Length: >= 4 } && replyLength >= 4 ? MemoryMarshal.Read<int>(reply) : 0);

    private static NtStatus Finish(Irp irp, PortSendOutcome[] outcomes, int outputLength)
    {
        var size = Marshal.SizeOf<PortSendOutcome>();
        var fit = Math.Min(outcomes.Length, outputLength / size);
        MemoryMarshal.AsBytes(outcomes.AsSpan(0, fit)).CopyTo(irp.SystemBuffer.Span);
        return Complete(irp, NtStatus.STATUS_SUCCESS, fit * size);
    }
}
