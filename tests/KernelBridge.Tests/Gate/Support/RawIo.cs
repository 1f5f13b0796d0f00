using System.Runtime.CompilerServices;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Tests.Gate.Support;

/// <summary>
/// File I/O spoken by hand over a <see cref="RawGate"/>: the gate tests need a client whose reads
/// they control byte by byte (one that stops reading, one that sends a header and no body).
/// </summary>
internal static class RawIo
{
    /// <summary>Stand-in addresses of the caller's memory: the kernel only hands them back.</summary>
    public const ulong IoStatusBlock = 0x10000, InputBuffer = 0x20000, OutputBuffer = 0x30000;

    /// <summary>NtCreateFile (FILE_OPEN) of an NT path; asserts it worked and returns the handle.</summary>
    public static long OpenFile(this RawGate gate, string ntPath, CreateOptions options = 0)
    {
        var name = Encoding.Unicode.GetBytes(ntPath);
        var request = new NtCreateFileRequest(0, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE | AccessMask.SYNCHRONIZE,
            (uint)ObjectAttributeFlags.OBJ_CASE_INSENSITIVE, 0, (uint)(ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE),
            (uint)CreateDisposition.FILE_OPEN, (uint)options, (uint)name.Length, 0);
        var frame = gate.Call((ushort)Syscall.NtCreateFile, request, name);
        Assert.Equal(NtStatus.STATUS_SUCCESS, (NtStatus)frame.Header.Value);
        return frame.Read<NtCreateFileReply>().Handle;
    }

    /// <summary>The status of the kernel's HelloReply, or null if none came within <paramref name="timeout"/> (or the connection closed first).</summary>
    public static NtStatus? HelloStatus(this RawGate gate, TimeSpan timeout)
    {
        try
        {
            var frame = gate.Receive(timeout);
            if (frame is null) return null;
            Assert.Equal(FrameKind.HelloReply, frame.Header.Kind);
            return (NtStatus)frame.Read<HelloReply>().Status;
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode is System.Net.Sockets.SocketError.TimedOut or System.Net.Sockets.SocketError.WouldBlock)
        {
            return null;
        }
    }

    /// <summary>Sends a call and does not wait for its answer.</summary>
    public static uint Post<T>(this RawGate gate, Syscall number, in T request, ReadOnlySpan<byte> data = default) where T : unmanaged
    {
        var sequence = gate.NextSequence();
        gate.Send(RawGate.Frame(FrameKind.Call, (ushort)number, sequence, Environment.CurrentManagedThreadId, in request, data));
        return sequence;
    }

    /// <summary>An NtDeviceIoControlFile request with no event, APC or port, on stand-in buffers.</summary>
    public static NtDeviceIoControlFileRequest Ioctl(long handle, CtlCode code, int inputLength, int outputLength) =>
        new(handle, 0, 0, 0, IoStatusBlock, InputBuffer, OutputBuffer, code.Value, (uint)inputLength, (uint)outputLength, (uint)inputLength, 0, 0);

    /// <summary>NtWriteFile of <paramref name="length"/> bytes at the current position (the data follows).</summary>
    public static NtWriteFileRequest Write(long handle, int length) =>
        new(handle, 0, 0, 0, IoStatusBlock, InputBuffer, 0, (uint)length, 0, IoRequestFlags.None, (uint)length);

    public static byte[] Bytes<T>(in T value) where T : unmanaged
    {
        var bytes = new byte[Unsafe.SizeOf<T>()];
        System.Runtime.InteropServices.MemoryMarshal.Write(bytes, in value);
        return bytes;
    }
}
