using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// NtQueryObject(ObjectNameInformation) on a file, as IopQueryNameInternal builds it: the device's
/// name, then the name the driver reports for FileNameInformation. <see cref="Start"/> sizes the
/// driver's buffer from the caller's; <see cref="Complete"/> runs when IRP_MJ_QUERY_INFORMATION has
/// come back (it may pend) and lays the answer out for the caller's buffer.
/// </summary>
internal sealed class FileNameQueryCall(ReplyTarget reply, string deviceName, ulong bufferAddress, uint length) : IIoCompletionTarget
{
    private const int UnicodeStringSize = 16;

    /// <summary>What the device's name alone needs: OBJECT_NAME_INFORMATION, the name and its NUL.</summary>
    private int DeviceRequired => UnicodeStringSize + deviceName.Length * 2 + 2;

    /// <summary>Not even the device's name fits: the caller learns the size, and nothing is written.</summary>
    private bool Overflow => length < UnicodeStringSize || DeviceRequired > length;

    /// <summary>
    /// The FILE_NAME_INFORMATION buffer the driver gets: what is left after the device's name and
    /// the NUL (the structure's 4-byte header overlaps the end of the device's name), or, when even
    /// the device's name does not fit, a buffer as large as the caller's (at least the structure).
    /// </summary>
    public int DriverLength
    {
        get
        {
            var buffer = Math.Max(length, UnicodeStringSize);
            return (int)(Overflow ? buffer : buffer - (uint)DeviceRequired + 4);
        }
    }

    /// <summary>
    /// The driver failed: NOT_IMPLEMENTED, INVALID_INFO_CLASS, INVALID_PARAMETER and
    /// INVALID_DEVICE_REQUEST mean it keeps no names, and the name is the device's alone; any
    /// other error is the caller's answer.
    /// </summary>
    private static bool MeansNoName(NtStatus status) =>
        status == NtStatus.STATUS_NOT_IMPLEMENTED || status == NtStatus.STATUS_INVALID_INFO_CLASS
        || status == NtStatus.STATUS_INVALID_PARAMETER || status == NtStatus.STATUS_INVALID_DEVICE_REQUEST;

    public void Complete(ulong tag, in IoOutcome outcome)
    {
        var status = outcome.Status;
        ReadOnlySpan<byte> answer = outcome.Kind == IoOutcomeKind.Answer ? outcome.Output : default;
        if (status.IsError)
        {
            if (!MeansNoName(status))
            {
                reply.Send(status, new NtQueryObjectReply(Overflow ? (uint)DeviceRequired : 0, 0));
                return;
            }
            // As Windows does: an empty name that starts where a name must, with a backslash.
            status = NtStatus.STATUS_SUCCESS;
            answer = [0, 0, 0, 0, (byte)'\\', 0];
        }
        var nameLength = answer.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(answer) : 0;
        if (Overflow)
        {
            var required = (uint)DeviceRequired + nameLength;
            reply.Send(length < UnicodeStringSize ? NtStatus.STATUS_INFO_LENGTH_MISMATCH : NtStatus.STATUS_BUFFER_OVERFLOW,
                new NtQueryObjectReply(required, 0));
            return;
        }
        var returned = answer.Length >= 4 ? answer[4..] : default;
        var copied = (int)Math.Min((uint)returned.Length, nameLength);
        // What the driver reports must be a path under the device.
        var underDevice = returned.Length >= 2 && BinaryPrimitives.ReadUInt16LittleEndian(returned) == '\\';
        if (underDevice) Send(status, returned[..copied], (uint)DeviceRequired + nameLength);
        else Send(NtStatus.STATUS_OBJECT_PATH_INVALID, default, 0);
    }

    /// <summary>
    /// OBJECT_NAME_INFORMATION in the caller's buffer: the UNICODE_STRING, the device's name, the
    /// driver's part, a NUL. On STATUS_OBJECT_PATH_INVALID the device's name is already there, as on Windows.
    /// </summary>
    private void Send(NtStatus status, ReadOnlySpan<byte> driverPart, uint returnLength)
    {
        var deviceBytes = MemoryMarshal.AsBytes(deviceName.AsSpan());
        var size = UnicodeStringSize + deviceBytes.Length + driverPart.Length + 2;
        var rented = ArrayPool<byte>.Shared.Rent(size);
        var span = rented.AsSpan(0, size);
        span.Clear();
        var nameBytes = deviceBytes.Length + driverPart.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)nameBytes);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], (ushort)(nameBytes + 2));
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], bufferAddress + UnicodeStringSize);
        deviceBytes.CopyTo(span[UnicodeStringSize..]);
        driverPart.CopyTo(span[(UnicodeStringSize + deviceBytes.Length)..]);
        reply.Send(status, new NtQueryObjectReply(returnLength, (uint)size), span);
        ArrayPool<byte>.Shared.Return(rented);
    }
}
