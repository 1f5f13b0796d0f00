using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.TestDriver;

public sealed partial class KbTestDriver
{
    /// <summary>
    /// IRP_MJ_QUERY_VOLUME_INFORMATION and IRP_MJ_SET_VOLUME_INFORMATION: recorded (parameters,
    /// IRP flags, a set's data), then answered as SET_VOLUME told the tag, or by default: the volume
    /// (label and serial number) and attribute (file system name) queries, cut with
    /// STATUS_BUFFER_OVERFLOW if they do not fit; sets succeed; other query classes are
    /// STATUS_INVALID_PARAMETER.
    /// </summary>
    private static NtStatus VolumeInformation(DeviceObject device, Irp irp)
    {
        var stack = Io.GetCurrentIrpStackLocation(irp);
        var state = StateOf(ContextOf(stack).Tag);
        var isQuery = stack.MajorFunction == IrpMajorFunction.IRP_MJ_QUERY_VOLUME_INFORMATION;
        var parameters = isQuery ? stack.Parameters.QueryVolume : stack.Parameters.SetVolume;
        var buffer = irp.SystemBuffer.Span[..Math.Min(parameters.Length, irp.SystemBuffer.Length)];
        Interlocked.Increment(ref isQuery ? ref state.QueryVolume : ref state.SetVolume);
        state.LastFsInformationClass = (int)parameters.FsInformationClass;
        state.LastFsLength = parameters.Length;
        state.LastIrpFlags = (uint)irp.Flags;
        if (!isQuery) state.LastSetVolume = buffer.ToArray();

        if (state.Volume is { } configured) return Answer(device, irp, state, configured, isQuery ? buffer : []);
        if (!isQuery) return Complete(irp, NtStatus.STATUS_SUCCESS, 0);
        return parameters.FsInformationClass switch
        {
            FsInformationClass.FileFsVolumeInformation => AnswerVolume(irp, buffer),
            FsInformationClass.FileFsAttributeInformation => AnswerAttributes(irp, buffer),
            _ => Complete(irp, NtStatus.STATUS_INVALID_PARAMETER, 0),
        };
    }

    /// <summary>FILE_FS_VOLUME_INFORMATION: creation time 0, the serial number, the label's length, no object ids, the label at 18.</summary>
    private static NtStatus AnswerVolume(Irp irp, Span<byte> buffer)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[8..], KbTestInterface.VolumeSerialNumber);
        return AnswerName(irp, buffer, 12, 18, KbTestInterface.VolumeLabel);
    }

    /// <summary>FILE_FS_ATTRIBUTE_INFORMATION: the flags, the longest component, the name's length, the name at 12.</summary>
    private static NtStatus AnswerAttributes(Irp irp, Span<byte> buffer)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, KbTestInterface.FileSystemAttributes);
        BinaryPrimitives.WriteInt32LittleEndian(buffer[4..], KbTestInterface.MaximumComponentNameLength);
        return AnswerName(irp, buffer, 8, 12, KbTestInterface.FileSystemName);
    }

    /// <summary>A structure ending in a counted name: the full length at <paramref name="lengthAt"/>, as much of the name as fits at <paramref name="nameAt"/>.</summary>
    private static NtStatus AnswerName(Irp irp, Span<byte> buffer, int lengthAt, int nameAt, string name)
    {
        var bytes = MemoryMarshal.AsBytes(name.AsSpan());
        BinaryPrimitives.WriteInt32LittleEndian(buffer[lengthAt..], bytes.Length);
        var fits = Math.Min(bytes.Length, buffer.Length - nameAt) & ~1;
        bytes[..fits].CopyTo(buffer[nameAt..]);
        return Complete(irp, fits < bytes.Length ? NtStatus.STATUS_BUFFER_OVERFLOW : NtStatus.STATUS_SUCCESS, nameAt + fits);
    }
}
