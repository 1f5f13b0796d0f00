using System.Net.Sockets;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Tests.Rings;

/// <summary>
/// A memfd passed over a Unix socket with SCM_RIGHTS (how a syscall area reaches the other side of
/// the control socket) maps the same memory; descriptors beyond what the receiver takes are closed.
/// </summary>
public sealed unsafe class DescriptorPassingTests
{
    [Fact]
    public void A_memfd_sent_over_a_unix_socket_maps_the_same_memory_on_the_other_side()
    {
        var (sender, receiver, path) = ConnectedPair();
        try
        {
            using var memory = SharedMemory.Create("kb-passed", 4096);
            Assert.Equal(4, Libc.SendWithDescriptors(sender.SafeHandle, "ring"u8, [memory.Descriptor], out var errno));
            Assert.Equal(0, errno);

            var buffer = new byte[16];
            var received = new SafeFileHandle?[1];
            Assert.Equal(4, Libc.ReceiveWithDescriptors(receiver.SafeHandle, buffer, received, out var count, out errno));
            Assert.Equal(1, count);
            Assert.Equal("ring"u8.ToArray(), buffer[..4]);
            using var mapped = SharedMemory.TryMap(received[0]!, 1 << 20, out var error);
            Assert.True(mapped is not null, error);
            memory.Pointer[100] = 0x42;
            Assert.Equal(0x42, mapped.Pointer[100]);
        }
        finally
        {
            Close(sender, receiver, path);
        }
    }

    [Fact]
    public void Descriptors_beyond_what_the_receiver_takes_are_closed()
    {
        var (sender, receiver, path) = ConnectedPair();
        var name = $"kb-extra-{Guid.NewGuid():N}";
        try
        {
            using var first = SharedMemory.Create(name + "-a", 4096);
            using var second = SharedMemory.Create(name + "-b", 4096);
            using var third = SharedMemory.Create(name + "-c", 4096);
            Assert.Equal(1, Libc.SendWithDescriptors(sender.SafeHandle, "x"u8, [first.Descriptor, second.Descriptor, third.Descriptor], out _));
            var received = new SafeFileHandle?[1];
            Assert.Equal(1, Libc.ReceiveWithDescriptors(receiver.SafeHandle, new byte[4], received, out var count, out _));
            Assert.Equal(1, count);
            using var kept = received[0]!;
            Assert.Equal(2, OpenDescriptorsOf(name + "-a")); // ours and the one we kept
            Assert.Equal(1, OpenDescriptorsOf(name + "-b")); // only ours: the received copy was closed
            Assert.Equal(1, OpenDescriptorsOf(name + "-c"));
        }
        finally
        {
            Close(sender, receiver, path);
        }
    }

    [Fact]
    public void A_message_without_descriptors_receives_none()
    {
        var (sender, receiver, path) = ConnectedPair();
        try
        {
            sender.Send("plain"u8);
            var received = new SafeFileHandle?[2];
            Assert.Equal(5, Libc.ReceiveWithDescriptors(receiver.SafeHandle, new byte[8], received, out var count, out _));
            Assert.Equal(0, count);
            Assert.All(received, Assert.Null);
            sender.Shutdown(SocketShutdown.Send);
            Assert.Equal(0, Libc.ReceiveWithDescriptors(receiver.SafeHandle, new byte[8], received, out count, out _));
        }
        finally
        {
            Close(sender, receiver, path);
        }
    }

    private static int OpenDescriptorsOf(string memfdName) =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd")
            .Select(entry => new FileInfo(entry).LinkTarget)
            .Count(target => target is not null && target.Contains("memfd:" + memfdName + " ", StringComparison.Ordinal));

    private static (Socket Sender, Socket Receiver, string Path) ConnectedPair()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kb-scm-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var sender = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        sender.Connect(new UnixDomainSocketEndPoint(path));
        var receiver = listener.Accept();
        receiver.ReceiveTimeout = 10_000;
        return (sender, receiver, path);
    }

    private static void Close(Socket sender, Socket receiver, string path)
    {
        sender.Dispose();
        receiver.Dispose();
        File.Delete(path);
    }
}
