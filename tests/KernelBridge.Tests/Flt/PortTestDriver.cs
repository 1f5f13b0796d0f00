using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Flt;

/// <summary>
/// The kernel side of the port tests: the test driver's port controls (make a port, send, close). A
/// port the test made is closed when this is disposed, so a failed test leaves no name behind.
/// </summary>
public sealed unsafe class PortTestDriver : IDisposable
{
    public const int NoReply = -1;

    private bool _serverClosed;

    private readonly string _device;

    private PortTestDriver(string name, string service)
    {
        Name = name;
        _device = KbTestInterface.Win32(service) + @"\ports";
    }

    public string Name { get; }

    /// <summary>A port of the test driver loaded as <paramref name="service"/> (the boot one by default).</summary>
    public static PortTestDriver Create(int maxConnections = 1, NtStatus refuse = default, NtStatus messageStatus = default, bool withMessageCallback = true,
        string service = KbTestInterface.ServiceName)
    {
        var port = new PortTestDriver(@"\KbPort" + Guid.NewGuid().ToString("N")[..12], service);
        var status = port.Control(KbTestPortsInterface.IOCTL_KBTEST_PORT_CREATE,
            [.. KbTest.Bytes(new PortCreateRequest(maxConnections, refuse.Value, messageStatus.Value, withMessageCallback ? 1 : 0)), .. Utf16(port.Name)], [], out _);
        Assert.True(status.IsSuccess, $"PORT_CREATE failed: {status}");
        return port;
    }

    private static byte[] Utf16(string name) => Encoding.Unicode.GetBytes(name);

    /// <summary>Has the driver send <paramref name="count"/> messages (see <see cref="PortSendRequest"/>); blocks until they have all ended.</summary>
    public PortSendOutcome[] Send(int count, int messageLength, int replyLength, long? timeout = null, PortSendMode mode = PortSendMode.Async, int client = 0)
    {
        var request = new PortSendRequest(count, messageLength, replyLength, timeout.HasValue ? 1 : 0, timeout ?? 0, mode, client);
        var output = new byte[Math.Max(1, count) * Marshal.SizeOf<PortSendOutcome>()];
        var status = Control(KbTestPortsInterface.IOCTL_KBTEST_PORT_SEND, [.. KbTest.Bytes(request), .. Utf16(Name)], output, out var returned);
        Assert.True(status.IsSuccess, $"PORT_SEND failed: {status}");
        return MemoryMarshal.Cast<byte, PortSendOutcome>(output.AsSpan(0, returned)).ToArray();
    }

    /// <summary><see cref="Send"/> on a pool thread, for tests that answer meanwhile.</summary>
    public Task<PortSendOutcome[]> SendInBackground(int count, int messageLength, int replyLength, long? timeout = null,
        PortSendMode mode = PortSendMode.Async, int client = 0) =>
        Task.Run(() => Send(count, messageLength, replyLength, timeout, mode, client));

    /// <summary>The task's result, once it has ended (within <paramref name="seconds"/>, or the test fails).</summary>
    public static T Ended<T>(Task<T> task, double seconds = 10)
    {
        Assert.True(task.Wait(TimeSpan.FromSeconds(seconds)), $"not done within {seconds} s");
        return task.Result;
    }

    /// <summary>Whether the task is still running after <paramref name="milliseconds"/>.</summary>
    public static bool StillRunning(Task task, int milliseconds) => !task.Wait(milliseconds);

    public void CloseClient(int client = 0)
    {
        var status = Control(KbTestPortsInterface.IOCTL_KBTEST_PORT_CLOSE_CLIENT, [.. KbTest.Bytes(client), .. Utf16(Name)], [], out _);
        Assert.True(status.IsSuccess, $"PORT_CLOSE_CLIENT failed: {status}");
    }

    public void CloseServer()
    {
        var status = Control(KbTestPortsInterface.IOCTL_KBTEST_PORT_CLOSE_SERVER, Utf16(Name), [], out _);
        Assert.True(status.IsSuccess, $"PORT_CLOSE_SERVER failed: {status}");
        _serverClosed = true;
    }

    /// <summary>The driver went (and closed the port itself): nothing to close on dispose.</summary>
    public void Forget() => _serverClosed = true;

    public (PortStateInfo Info, byte[] Context) State()
    {
        var output = new byte[Marshal.SizeOf<PortStateInfo>() + 70_000];
        var status = Control(KbTestPortsInterface.IOCTL_KBTEST_PORT_STATE, Utf16(Name), output, out var returned);
        Assert.True(status.IsSuccess, $"PORT_STATE failed: {status}");
        var info = MemoryMarshal.Read<PortStateInfo>(output);
        return (info, output.AsSpan(Marshal.SizeOf<PortStateInfo>(), returned - Marshal.SizeOf<PortStateInfo>()).ToArray());
    }

    /// <summary>Polls (bounded) until the driver's books for this port satisfy <paramref name="condition"/>.</summary>
    public PortStateInfo WaitForState(Func<PortStateInfo, bool> condition)
    {
        var info = State().Info;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition(info) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
            info = State().Info;
        }
        return info;
    }

    private NtStatus Control(CtlCode code, byte[] input, byte[] output, out int returned)
    {
        var device = Kernel32.CreateFile(_device, KbTest.ReadWrite, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, device);
        try
        {
            IO_STATUS_BLOCK iosb = default;
            NtStatus status;
            fixed (byte* inPointer = input)
            fixed (byte* outPointer = output)
                status = Ntdll.NtDeviceIoControlFile(device, 0, 0, 0, &iosb, code.Value, input.Length == 0 ? null : inPointer, (uint)input.Length,
                    output.Length == 0 ? null : outPointer, (uint)output.Length);
            returned = status.IsError ? 0 : (int)iosb.Information;
            return status;
        }
        finally
        {
            Kernel32.CloseHandle(device);
        }
    }

    public void Dispose()
    {
        if (_serverClosed) return;
        Control(KbTestPortsInterface.IOCTL_KBTEST_PORT_CLOSE_SERVER, Utf16(Name), [], out _);
        _serverClosed = true;
    }
}
