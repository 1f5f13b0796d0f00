using System.Net.Sockets;
using System.Text.RegularExpressions;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;
using KernelBridge.Platform;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// The handshake carries the protocol version. A kernel refuses a client of another version with
/// STATUS_REVISION_MISMATCH and its own version, then hangs up; a client refuses a kernel of
/// another version with a <see cref="ProtocolMismatchException"/> naming both.
/// </summary>
[Collection(KernelCollection.Name)]
public sealed class VersionMismatchTests(KernelFixture fixture)
{
    private const uint OtherVersion = 999;
    private const uint ImpostorVersion = WireProtocol.Version + 1;

    /// <summary>A version 5 Hello was 12 bytes (magic, version, features): shorter than this version's, but its client still hears why.</summary>
    [Fact]
    public void A_hello_of_an_older_shorter_layout_is_answered_with_STATUS_REVISION_MISMATCH()
    {
        using var gate = RawGate.Connect(fixture.Instance);
        var body = new byte[12];
        BitConverter.TryWriteBytes(body.AsSpan(0), WireProtocol.Magic);
        BitConverter.TryWriteBytes(body.AsSpan(4), 5u);
        gate.Send(RawGate.Frame((uint)(FrameHeader.Size + body.Length), FrameKind.Hello, 0, 0, 0, body));
        var frame = gate.Receive();
        Assert.NotNull(frame);
        Assert.Equal(FrameKind.HelloReply, frame.Header.Kind);
        Assert.Equal(NtStatus.STATUS_REVISION_MISMATCH, (NtStatus)frame.Header.Value);
        Assert.True(gate.WaitForClose(TimeSpan.FromSeconds(10)), "the kernel kept the connection of a client of another version open");
    }

    [Fact]
    public void The_kernel_answers_a_hello_of_another_version_with_STATUS_REVISION_MISMATCH_and_hangs_up()
    {
        using var gate = RawGate.Connect(fixture.Instance);
        gate.SendHello(version: OtherVersion);
        var frame = gate.Receive();
        Assert.NotNull(frame);
        Assert.Equal(FrameKind.HelloReply, frame.Header.Kind);
        Assert.Equal(NtStatus.STATUS_REVISION_MISMATCH, (NtStatus)frame.Header.Value);
        Assert.Equal(0xC0000059u, (uint)frame.Header.Value);
        var reply = frame.Read<HelloReply>();
        Assert.Equal(WireProtocol.Magic, reply.Magic);
        Assert.Equal(WireProtocol.Version, reply.ProtocolVersion);
        Assert.Equal(NtStatus.STATUS_REVISION_MISMATCH, (NtStatus)reply.Status);
        Assert.Equal(fixture.Kernel.Process.Id, reply.KernelProcessId);
        Assert.Equal(Environment.ProcessId, reply.ClientProcessId);
        Assert.True(gate.WaitForClose(TimeSpan.FromSeconds(10)), "the kernel kept the connection of a client of another version open");

        var expected = $"speaks protocol version {OtherVersion}, this kernel speaks {WireProtocol.Version}";
        Assert.True(KbTest.Eventually(() => fixture.Kernel.Process.Output.Contains(expected, StringComparison.Ordinal), TimeSpan.FromSeconds(5)),
            $"the kernel's log does not say '{expected}'");
    }

    [Fact]
    public void A_client_of_another_version_gets_ProtocolMismatchException_from_the_real_kernel()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        using (socket)
        {
            socket.Connect(new UnixDomainSocketEndPoint(InstanceDirectory.Open(fixture.Instance, create: false).SocketPath));
            var e = Assert.Throws<ProtocolMismatchException>(() => GateClient.Handshake(socket, fixture.Instance, OtherVersion));
            Assert.Equal(OtherVersion, e.ClientVersion);
            Assert.Equal(WireProtocol.Version, e.KernelVersion);
            AssertNamesBothVersions(e.Message, OtherVersion, WireProtocol.Version);
        }
    }

    /// <summary>A fresh instance whose socket is the impostor's.</summary>
    private static (string Instance, InstanceDirectory Directory) FreshInstance()
    {
        var instance = KernelProcess.NewInstanceName("fake");
        return (instance, InstanceDirectory.Open(instance, create: true));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Handshake_with_a_kernel_of_another_version_throws_ProtocolMismatchException_naming_both(bool kernelSaysRevisionMismatch)
    {
        var (_, directory) = FreshInstance();
        try
        {
            var status = kernelSaysRevisionMismatch ? NtStatus.STATUS_REVISION_MISMATCH : NtStatus.STATUS_SUCCESS;
            using var fake = new FakeKernel(directory.SocketPath, FakeKernel.ReplyWith(ImpostorVersion, status));
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            using (socket)
            {
                socket.Connect(new UnixDomainSocketEndPoint(directory.SocketPath));
                var e = Assert.Throws<ProtocolMismatchException>(() => GateClient.Handshake(socket, "fake", WireProtocol.Version));
                Assert.Equal(WireProtocol.Version, e.ClientVersion);
                Assert.Equal(ImpostorVersion, e.KernelVersion);
                AssertNamesBothVersions(e.Message, WireProtocol.Version, ImpostorVersion);
            }
            Assert.Equal(WireProtocol.Magic, fake.LastHello.Magic);
            Assert.Equal(WireProtocol.Version, fake.LastHello.ProtocolVersion);
        }
        finally
        {
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    [Fact]
    public void Connect_to_an_instance_whose_kernel_speaks_another_version_throws_ProtocolMismatchException()
    {
        var (instance, directory) = FreshInstance();
        try
        {
            using var fake = new FakeKernel(directory.SocketPath, FakeKernel.ReplyWith(ImpostorVersion, NtStatus.STATUS_SUCCESS, kernelPid: 31337));
            var e = Assert.Throws<ProtocolMismatchException>(() => GateClient.Connect(instance, autoStart: true));
            AssertNamesBothVersions(e.Message, WireProtocol.Version, ImpostorVersion);
            Assert.Contains("31337", e.Message, StringComparison.Ordinal);
            Assert.Equal(1, fake.HelloCount);
            // It did not try to start a kernel of its own: somebody answered, just in another language.
            Assert.False(File.Exists(directory.LogPath), "Connect started a kernel although one (of another version) was listening");

            // The CLI turns it into a message and exit code 1.
            var status = Kbridge.Run("kernel", "status", "--instance", instance);
            Assert.Equal(1, status.ExitCode);
            AssertNamesBothVersions(status.Stderr, WireProtocol.Version, ImpostorVersion);
        }
        finally
        {
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    [Fact]
    public void A_listener_that_is_not_a_kernel_is_refused_with_KernelUnavailableException()
    {
        var (instance, directory) = FreshInstance();
        try
        {
            var reply = new HelloReply(0x12345678, WireProtocol.Version, 0, 1, 1, 0);
            using var fake = new FakeKernel(directory.SocketPath, reply);
            var e = Assert.Throws<KernelUnavailableException>(() => GateClient.Connect(instance, autoStart: false));
            Assert.Contains(instance, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    private static void AssertNamesBothVersions(string message, uint client, uint kernel)
    {
        Assert.Matches(new Regex($@"\bversion {client}\b"), message);
        Assert.Matches(new Regex($@"\bversion {kernel}\b"), message);
    }
}
