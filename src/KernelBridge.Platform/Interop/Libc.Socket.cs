using System.Runtime.InteropServices;

namespace KernelBridge.Platform.Interop;

/// <summary>The socket and resource-limit calls: a gathered send that never blocks, and RLIMIT_NOFILE.</summary>
public static partial class Libc
{
    public const int EINTR = 4;

    private const int MSG_DONTWAIT = 0x40;
    private const int MSG_NOSIGNAL = 0x4000;
    private const int RLIMIT_NOFILE = 7;

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr (the same layout on every 64-bit Linux).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport(Lib, SetLastError = true)]
    private static unsafe partial nint sendmsg(int sockfd, MsgHdr* msg, int flags);

    [LibraryImport(Lib, SetLastError = true)]
    private static unsafe partial int getrlimit(int resource, RLimit* rlim);

    /// <summary>
    /// sendmsg(2) of three parts in order, with MSG_DONTWAIT: sends what the socket has room for
    /// now and returns how many bytes that was (0 when it is full), or -1 with <paramref name="errno"/>
    /// when the connection is gone.
    /// </summary>
    public static unsafe int SendWithoutBlocking(SafeHandle socket, ReadOnlySpan<byte> part1, ReadOnlySpan<byte> part2, ReadOnlySpan<byte> part3, out int errno)
    {
        var added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            var fd = (int)socket.DangerousGetHandle();
            fixed (byte* p1 = part1)
            fixed (byte* p2 = part2)
            fixed (byte* p3 = part3)
            {
                var vectors = stackalloc IoVec[3];
                vectors[0] = new IoVec { Base = p1, Length = (nuint)part1.Length };
                vectors[1] = new IoVec { Base = p2, Length = (nuint)part2.Length };
                vectors[2] = new IoVec { Base = p3, Length = (nuint)part3.Length };
                var message = new MsgHdr { Iov = vectors, IovLength = 3 };
                while (true)
                {
                    var sent = sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
                    if (sent >= 0)
                    {
                        errno = 0;
                        return (int)sent;
                    }
                    errno = Marshal.GetLastPInvokeError();
                    if (errno == EINTR) continue;
                    if (errno == EWOULDBLOCK) return 0;
                    return -1;
                }
            }
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    /// <summary>This process's soft RLIMIT_NOFILE (how many descriptors it may hold), or null if unlimited.</summary>
    public static unsafe long? DescriptorLimit()
    {
        RLimit limit;
        if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.Current > int.MaxValue) return null;
        return (long)limit.Current;
    }

    private const short POLLHUP = 0x10;
    private const short POLLRDHUP = 0x2000;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Descriptor;
        public short Events;
        public short ReturnedEvents;
    }

    [LibraryImport(Lib, SetLastError = true)]
    private static unsafe partial int poll(PollFd* fds, nuint count, int timeout);

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> (-1: for ever) for the peer of a stream
    /// socket to hang up, without reading anything: true once it has (or the socket is unusable).
    /// </summary>
    public static unsafe bool WaitForHangUp(SafeHandle socket, int timeoutMilliseconds)
    {
        var added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            var fd = new PollFd { Descriptor = (int)socket.DangerousGetHandle(), Events = POLLRDHUP };
            var result = poll(&fd, 1, timeoutMilliseconds);
            if (result < 0) return Marshal.GetLastPInvokeError() != EINTR;
            return result > 0 && (fd.ReturnedEvents & (POLLRDHUP | POLLHUP | 0x8 /* POLLERR */ | 0x20 /* POLLNVAL */)) != 0;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }
}
