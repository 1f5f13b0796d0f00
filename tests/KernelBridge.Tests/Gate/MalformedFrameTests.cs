using System.Text;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Drivers.Echo;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// DESIGN.md: "a malformed frame closes that client's connection and nothing else." Each case
/// speaks raw bytes to the shared kernel; the kernel must hang up on that socket, and keep
/// serving everyone else: a normal client (Echo through the fixture's connection) and a
/// bystander raw connection that was open all along.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class MalformedFrameTests(KernelFixture fixture)
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    private RawGate Connect() => RawGate.Connect(fixture.Instance);

    /// <summary>The bytes each case sends, and whether a proper handshake comes first.</summary>
    private static (bool HandshakeFirst, byte[] Bytes) Case(string name)
    {
        switch (name)
        {
            case "length-below-header":
                return (false, RawGate.Frame(8, FrameKind.Hello, 0, 0, 0));
            case "length-zero-after-handshake":
                return (true, RawGate.Frame(0, FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 1, 0));
            case "length-above-64-MiB":
                return (false, RawGate.Frame(WireProtocol.MaxFrameLength + 1u, FrameKind.Hello, 0, 0, 0));
            case "length-above-64-MiB-after-handshake":
                return (true, RawGate.Frame(uint.MaxValue, FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 1, 0));
            case "call-before-hello":
                return (false, RawGate.Frame(FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 1, Environment.CurrentManagedThreadId, new KbQueryKernelStateRequest(0)));
            case "hello-with-bad-magic":
                return (false, RawGate.Frame(FrameKind.Hello, 0, 0, 0, new HelloRequest(0xDEADBEEF, WireProtocol.Version, 0)));
            case "hello-of-the-wrong-size":
                return (false, RawGate.Frame(FrameKind.Hello, 0, 0, 0, new HelloReply(WireProtocol.Magic, WireProtocol.Version, 0, 0, 0, 0)));
            case "truncated-request":
                // NtClose needs an 8-byte request; the frame carries 4.
                return (true, RawGate.Frame(FrameKind.Call, (ushort)Syscall.NtClose, 1, 0, 0));
            case "header-only-request":
                return (true, RawGate.Frame(FrameHeader.Size, FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 1, 0));
            case "data-length-beyond-the-frame":
                // NtLoadDriver announces a 1000-byte service name and sends none (checked before the privilege).
                return (true, RawGate.Frame(FrameKind.Call, (ushort)Syscall.NtLoadDriver, 1, 0, new NtLoadDriverRequest(1000, 0)));
            case "odd-string-length":
                return (true, RawGate.Frame(FrameKind.Call, (ushort)Syscall.NtLoadDriver, 1, 0, new NtLoadDriverRequest(3, 0), [1, 2, 3]));
            case "unknown-frame-kind":
                return SetKind(RawGate.Frame(FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 1, Environment.CurrentManagedThreadId, new KbQueryKernelStateRequest(0)), 99);
            case "return-frame-from-a-client":
                return (true, RawGate.Frame(FrameKind.Return, (ushort)Syscall.KbQueryKernelState, 1, 0, new EmptyReply(0)));
            case "second-hello":
                return (true, RawGate.Frame(FrameKind.Hello, 0, 0, 0, new HelloRequest(WireProtocol.Magic, WireProtocol.Version, 0)));
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, "no such case");
        }
    }

    private static (bool, byte[]) SetKind(byte[] frame, ushort kind)
    {
        BitConverter.TryWriteBytes(frame.AsSpan(4), kind);
        return (true, frame);
    }

    [Theory]
    [InlineData("length-below-header")]
    [InlineData("length-zero-after-handshake")]
    [InlineData("length-above-64-MiB")]
    [InlineData("length-above-64-MiB-after-handshake")]
    [InlineData("call-before-hello")]
    [InlineData("hello-with-bad-magic")]
    [InlineData("hello-of-the-wrong-size")]
    [InlineData("truncated-request")]
    [InlineData("header-only-request")]
    [InlineData("data-length-beyond-the-frame")]
    [InlineData("odd-string-length")]
    [InlineData("unknown-frame-kind")]
    [InlineData("return-frame-from-a-client")]
    [InlineData("second-hello")]
    public void A_malformed_frame_closes_only_that_connection(string name)
    {
        using var bystander = Connect();
        bystander.Handshake();
        Assert.Equal(NtStatus.STATUS_SUCCESS, bystander.QueryState());
        var clientsBefore = KernelControl.QueryState(fixture.Gate).Clients;

        var (handshakeFirst, bytes) = Case(name);
        using (var offender = Connect())
        {
            if (handshakeFirst) offender.Handshake();
            offender.Send(bytes);
            Assert.True(offender.WaitForClose(CloseTimeout), $"{name}: the kernel did not close the offending connection within {CloseTimeout.TotalSeconds} s");
        }

        // The kernel still serves: a normal client...
        using (var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: fixture.Gate))
        {
            var output = new byte[16];
            var result = echo.IoControl(EchoInterface.IOCTL_ECHO_BUFFERED, "still here"u8, output);
            Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
            Assert.Equal("still here", Encoding.ASCII.GetString(output, 0, result.Information));
        }
        // ...and the connection that was open all along.
        Assert.Equal(NtStatus.STATUS_SUCCESS, bystander.QueryState());
        // The offender's connection is gone (<=: one that an earlier test closed may still have been counted before).
        Assert.True(KbTest.Eventually(() => KernelControl.QueryState(fixture.Gate).Clients <= clientsBefore),
            $"clients before {clientsBefore}, now {KernelControl.QueryState(fixture.Gate).Clients}");
    }

    /// <summary>
    /// The first frame must be a Hello, whose size is fixed (16 + 12 bytes), so a first header
    /// announcing tens of megabytes is malformed as soon as its 16 bytes are in. The kernel should
    /// hang up then, not reserve a 64 MiB buffer for a client that has not even said hello and
    /// wait for it to fill (every unauthenticated connection could pin 64 MiB that way).
    /// </summary>
    [Fact]
    public void A_first_frame_announcing_more_than_a_hello_is_refused_without_waiting_for_the_rest()
    {
        using var offender = Connect();
        offender.Send(RawGate.Frame((uint)WireProtocol.MaxFrameLength, FrameKind.Hello, 0, 0, 0));
        Assert.True(offender.WaitForClose(TimeSpan.FromSeconds(5)),
            "the kernel is still waiting for the rest of a 64 MiB 'Hello' from a client that has not shaken hands");
    }

    /// <summary>The control for the cases above: a well-behaved connection is not closed.</summary>
    [Fact]
    public void A_well_formed_connection_stays_open()
    {
        using var gate = Connect();
        gate.Handshake();
        Assert.Equal(NtStatus.STATUS_SUCCESS, gate.QueryState());
        Assert.False(gate.WaitForClose(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(NtStatus.STATUS_SUCCESS, gate.QueryState());
    }

    [Fact]
    public void A_protocol_violation_is_logged_with_the_offenders_pid()
    {
        using (var offender = Connect())
        {
            offender.Send(RawGate.Frame(4, FrameKind.Hello, 0, 0, 0));
            Assert.True(offender.WaitForClose(CloseTimeout));
        }
        var expected = $"protocol violation from process {Environment.ProcessId}";
        Assert.True(KbTest.Eventually(() => fixture.Kernel.Process.Output.Contains(expected, StringComparison.Ordinal), TimeSpan.FromSeconds(5)),
            $"the kernel's log does not say '{expected}'");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(150)]
    [InlineData(999)]
    [InlineData(ushort.MaxValue)]
    public void An_unknown_system_service_gets_STATUS_INVALID_SYSTEM_SERVICE_and_the_connection_stays(int number)
    {
        using var gate = Connect();
        gate.Handshake();
        var reply = gate.Call((ushort)number, new KbQueryKernelStateRequest(0));
        Assert.Equal(NtStatus.STATUS_INVALID_SYSTEM_SERVICE, (NtStatus)reply.Header.Value);
        Assert.Equal(0xC000001Cu, (uint)reply.Header.Value);
        Assert.Equal((ushort)number, reply.Header.Code);
        // Not a protocol violation: the same connection keeps working.
        Assert.Equal(NtStatus.STATUS_SUCCESS, gate.QueryState());
        Assert.Equal(NtStatus.STATUS_INVALID_SYSTEM_SERVICE, (NtStatus)gate.Call((ushort)number, new EmptyReply(0)).Header.Value);
        Assert.Equal(NtStatus.STATUS_SUCCESS, gate.QueryState());
    }

    [Fact]
    public void A_call_from_thread_id_zero_is_a_protocol_violation()
    {
        using var gate = Connect();
        gate.Handshake();
        gate.Send(RawGate.Frame(FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 1, 0, new KbQueryKernelStateRequest(0)));
        Assert.Null(gate.Receive());
    }

    [Fact]
    public void Two_frames_in_one_send_and_one_frame_in_many_sends_are_both_understood()
    {
        using var gate = Connect();
        gate.Handshake();
        var first = RawGate.Frame(FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 1, Environment.CurrentManagedThreadId, new KbQueryKernelStateRequest(0));
        var second = RawGate.Frame(FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 2, Environment.CurrentManagedThreadId, new KbQueryKernelStateRequest(0));
        gate.Send([.. first, .. second]);
        var replies = new[] { gate.Receive(), gate.Receive() };
        Assert.All(replies, r => Assert.Equal(NtStatus.STATUS_SUCCESS, (NtStatus)r!.Header.Value));
        Assert.Equal([1u, 2u], replies.Select(r => r!.Header.Sequence).Order());

        var third = RawGate.Frame(FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 3, Environment.CurrentManagedThreadId, new KbQueryKernelStateRequest(0));
        foreach (var b in third)
        {
            gate.Send([b]);
            Thread.Sleep(1);
        }
        var reply = gate.Receive();
        Assert.NotNull(reply);
        Assert.Equal(3u, reply.Header.Sequence);
        Assert.Equal(NtStatus.STATUS_SUCCESS, (NtStatus)reply.Header.Value);
    }

    [Fact]
    public void A_client_that_hangs_up_inside_a_frame_is_simply_run_down()
    {
        var clientsBefore = KernelControl.QueryState(fixture.Gate).Clients;
        using (var gate = Connect())
        {
            gate.Handshake();
            var frame = RawGate.Frame(FrameKind.Call, (ushort)Syscall.KbQueryKernelState, 1, Environment.CurrentManagedThreadId, new KbQueryKernelStateRequest(0));
            gate.Send(frame.AsSpan(0, 10));
        }
        Assert.True(KbTest.Eventually(() => KernelControl.QueryState(fixture.Gate).Clients <= clientsBefore),
            $"clients before {clientsBefore}, now {KernelControl.QueryState(fixture.Gate).Clients}");
        using var other = GateClient.Connect(fixture.Instance, autoStart: false);
        Assert.Equal(fixture.Kernel.Process.Id, KernelControl.QueryState(other).KernelProcessId);
    }
}
