using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Platform.Interop;

/// <summary>
/// Passing a descriptor over a Unix socket (SCM_RIGHTS): how a syscall area's memfd reaches the
/// other side of the control socket. The receiver takes the descriptors it has room for and closes
/// any others a peer crams in, so a hostile peer cannot fill our descriptor table this way.
/// </summary>
public static partial class Libc
{
    private const int SCM_RIGHTS = 1;
    private const int MSG_CMSG_CLOEXEC = 0x4000_0000;

    // struct cmsghdr on 64-bit Linux: size_t len, int level, int type, then the data, 8-aligned.
    private const int CmsgHeaderLength = 16;

    // One control message with room for MaxDescriptorsPerMessage descriptors (CMSG_SPACE).
    private const int ControlSpace = CmsgHeaderLength + MaxDescriptorsPerMessage * sizeof(int);

    [LibraryImport(Lib, SetLastError = true)]
    private static unsafe partial nint recvmsg(int sockfd, MsgHdr* msg, int flags);

    /// <summary>The most descriptors one message carries here (what SCM_RIGHTS control space we set aside).</summary>
    public const int MaxDescriptorsPerMessage = 4;

    /// <summary>
    /// sendmsg(2) of <paramref name="data"/> (at least one byte) with <paramref name="descriptors"/>
    /// (one to <see cref="MaxDescriptorsPerMessage"/>) attached. Blocks until sent unless
    /// <paramref name="nonBlocking"/> (then EAGAIN when the socket is full); the bytes sent, or -1
    /// with <paramref name="errno"/>. The descriptors travel with the first byte sent.
    /// </summary>
    public static unsafe int SendWithDescriptors(SafeHandle socket, ReadOnlySpan<byte> data, ReadOnlySpan<SafeHandle> descriptors, out int errno,
        bool nonBlocking = false)
    {
        ArgumentOutOfRangeException.ThrowIfZero(data.Length);
        ArgumentOutOfRangeException.ThrowIfZero(descriptors.Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(descriptors.Length, MaxDescriptorsPerMessage);
        var socketAdded = false;
        var added = 0;
        try
        {
            socket.DangerousAddRef(ref socketAdded);
            var control = stackalloc byte[ControlSpace];
            new Span<byte>(control, ControlSpace).Clear();
            *(nuint*)control = (nuint)(CmsgHeaderLength + descriptors.Length * sizeof(int));
            *(int*)(control + 8) = SOL_SOCKET;
            *(int*)(control + 12) = SCM_RIGHTS;
            for (; added < descriptors.Length; added++)
            {
                var referenced = false;
                descriptors[added].DangerousAddRef(ref referenced);
                ((int*)(control + CmsgHeaderLength))[added] = (int)descriptors[added].DangerousGetHandle();
            }
            fixed (byte* bytes = data)
            {
                var vector = new IoVec { Base = bytes, Length = (nuint)data.Length };
                var controlLength = (nuint)((CmsgHeaderLength + descriptors.Length * sizeof(int) + 7) & ~7);
                var message = new MsgHdr { Iov = &vector, IovLength = 1, Control = control, ControlLength = controlLength };
                while (true)
                {
                    var sent = sendmsg((int)socket.DangerousGetHandle(), &message, MSG_NOSIGNAL | (nonBlocking ? MSG_DONTWAIT : 0));
                    if (sent >= 0)
                    {
                        errno = 0;
                        return (int)sent;
                    }
                    errno = Marshal.GetLastPInvokeError();
                    if (errno != EINTR) return -1;
                }
            }
        }
        finally
        {
            for (var i = 0; i < added; i++) descriptors[i].DangerousRelease();
            if (socketAdded) socket.DangerousRelease();
        }
    }

    /// <summary>
    /// recvmsg(2) into <paramref name="buffer"/>, taking up to <c>descriptors.Length</c> of the
    /// descriptors that came with the bytes (close-on-exec; <paramref name="count"/> says how many)
    /// and closing any others. The bytes received, 0 at end of stream, or -1 with <paramref name="errno"/>.
    /// </summary>
    public static unsafe int ReceiveWithDescriptors(SafeHandle socket, Span<byte> buffer, Span<SafeFileHandle?> descriptors, out int count, out int errno)
    {
        count = 0;
        descriptors.Clear();
        var added = false;
        try
        {
            socket.DangerousAddRef(ref added);
            var control = stackalloc byte[ControlSpace];
            fixed (byte* bytes = buffer)
            {
                var vector = new IoVec { Base = bytes, Length = (nuint)buffer.Length };
                var message = new MsgHdr { Iov = &vector, IovLength = 1, Control = control, ControlLength = ControlSpace };
                nint received;
                while ((received = recvmsg((int)socket.DangerousGetHandle(), &message, MSG_CMSG_CLOEXEC)) < 0)
                {
                    errno = Marshal.GetLastPInvokeError();
                    if (errno != EINTR) return -1;
                }
                errno = 0;
                count = TakeDescriptors(control, (int)message.ControlLength, descriptors);
                return (int)received;
            }
        }
        finally
        {
            if (added) socket.DangerousRelease();
        }
    }

    private const int F_DUPFD_CLOEXEC = 1030;

    /// <summary>A second descriptor for the same open file (close-on-exec), or null with <paramref name="errno"/>.</summary>
    public static SafeFileHandle? Duplicate(SafeHandle descriptor, out int errno)
    {
        var added = false;
        try
        {
            descriptor.DangerousAddRef(ref added);
            var fd = fcntl((int)descriptor.DangerousGetHandle(), F_DUPFD_CLOEXEC, 0);
            errno = fd < 0 ? Marshal.GetLastPInvokeError() : 0;
            return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
        }
        finally
        {
            if (added) descriptor.DangerousRelease();
        }
    }

    // Walks the control messages the kernel filled in (it wrote them, but a peer chose how many
    // descriptors): keeps as many as the caller has room for, closes the rest. Descriptors that did
    // not fit the control space (MSG_CTRUNC) were never installed: nothing to close for them.
    private static unsafe int TakeDescriptors(byte* control, int controlLength, Span<SafeFileHandle?> kept)
    {
        var count = 0;
        var offset = 0;
        while (offset + CmsgHeaderLength <= controlLength)
        {
            var length = (long)*(nuint*)(control + offset);
            if (length < CmsgHeaderLength || offset + length > controlLength) break;
            if (*(int*)(control + offset + 8) == SOL_SOCKET && *(int*)(control + offset + 12) == SCM_RIGHTS)
            {
                for (var at = CmsgHeaderLength; at + sizeof(int) <= length; at += sizeof(int))
                {
                    var fd = *(int*)(control + offset + at);
                    if (count < kept.Length) kept[count++] = new SafeFileHandle(fd, ownsHandle: true);
                    else new SafeFileHandle(fd, ownsHandle: true).Dispose(); // closed: a peer's extra is not ours to keep
                }
            }
            offset += (int)((length + 7) & ~7L);
        }
        return count;
    }
}
