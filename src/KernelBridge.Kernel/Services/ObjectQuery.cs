using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// NtQueryObject and NtQueryDirectoryObject. Answers are laid out exactly as x64 Windows lays
/// them out in the caller's buffer, UNICODE_STRING pointers included (computed from the caller's
/// buffer address), so the client only copies bytes.
/// </summary>
internal sealed partial class SystemServices
{
    private const int UnicodeStringSize = 16;
    private const int BasicInformationSize = 56;
    private const int TypeInformationSize = 104;
    private const int DirectoryEntrySize = 32;

    public void NtQueryObject(in SyscallContext context, in NtQueryObjectRequest request)
    {
        using var referenced = _ob.ReferenceByHandle<KernelObject>(context.Process, context.Thread, request.Handle, 0, null, ProcessorMode.KernelMode);
        if (Refused(context, referenced.Status, new NtQueryObjectReply(0, 0))) return;
        var obj = referenced.Value;
        var granted = referenced.GrantedAccess;
        context.Process.Handles.TryGet(request.Handle, out var entry);
        {
            switch ((ObjectInformationClass)request.InformationClass)
            {
                case ObjectInformationClass.ObjectBasicInformation:
                    QueryBasic(context, request, obj, granted, entry.Attributes);
                    break;
                case ObjectInformationClass.ObjectNameInformation when obj is IoFileObject file:
                    QueryFileName(context, request, file);
                    break;
                case ObjectInformationClass.ObjectNameInformation:
                    QueryName(context, request, obj);
                    break;
                case ObjectInformationClass.ObjectTypeInformation:
                    QueryType(context, request, obj.ObjectType);
                    break;
                case ObjectInformationClass.ObjectHandleFlagInformation:
                    if (request.Length < 2)
                    {
                        context.Reply.Send(NtStatus.STATUS_INFO_LENGTH_MISMATCH, new NtQueryObjectReply(2, 0));
                        break;
                    }
                    ReadOnlySpan<byte> flags =
                    [
                        (byte)((entry.Attributes & HandleAttributes.Inherit) != 0 ? 1 : 0),
                        (byte)((entry.Attributes & HandleAttributes.ProtectFromClose) != 0 ? 1 : 0),
                    ];
                    context.Reply.Send(NtStatus.STATUS_SUCCESS, new NtQueryObjectReply(2, 2), flags);
                    break;
                default:
                    context.Reply.Send(NtStatus.STATUS_INVALID_INFO_CLASS, new NtQueryObjectReply(0, 0));
                    break;
            }
        }
    }

    private static void QueryBasic(in SyscallContext context, in NtQueryObjectRequest request, KernelObject obj, uint granted, HandleAttributes attributes)
    {
        if (request.Length != BasicInformationSize)
        {
            context.Reply.Send(NtStatus.STATUS_INFO_LENGTH_MISMATCH, new NtQueryObjectReply(BasicInformationSize, 0));
            return;
        }
        Span<byte> info = stackalloc byte[BasicInformationSize];
        info.Clear();
        var attributeBits = (uint)attributes & 0x3;
        if (obj.Header.Permanent) attributeBits |= (uint)ObjectAttributeFlags.OBJ_PERMANENT;
        BinaryPrimitives.WriteUInt32LittleEndian(info, attributeBits);
        BinaryPrimitives.WriteUInt32LittleEndian(info[4..], granted);
        BinaryPrimitives.WriteInt32LittleEndian(info[8..], Volatile.Read(ref obj.Header.HandleCount));
        BinaryPrimitives.WriteInt32LittleEndian(info[12..], Volatile.Read(ref obj.Header.PointerCount) - 1);
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new NtQueryObjectReply(BasicInformationSize, BasicInformationSize), info);
    }

    /// <summary>An object's name in the namespace; too small a buffer is STATUS_INFO_LENGTH_MISMATCH with the size needed.</summary>
    private void QueryName(in SyscallContext context, in NtQueryObjectRequest request, KernelObject obj)
    {
        var name = _ob.NameForQuery(obj);
        var nameBytes = name.Length * 2;
        var required = nameBytes == 0 ? UnicodeStringSize : UnicodeStringSize + nameBytes + 2;
        if (request.Length < required)
        {
            context.Reply.Send(NtStatus.STATUS_INFO_LENGTH_MISMATCH, new NtQueryObjectReply((uint)required, 0));
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(required);
        var span = buffer.AsSpan(0, required);
        span.Clear();
        if (nameBytes > 0)
        {
            WriteUnicodeString(span, (ushort)nameBytes, (ushort)(nameBytes + 2), request.BufferAddress + UnicodeStringSize);
            MemoryMarshal.AsBytes(name.AsSpan()).CopyTo(span[UnicodeStringSize..]);
        }
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new NtQueryObjectReply((uint)required, (uint)required), span);
        ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>
    /// A file's name (IopQueryName): the device's name and what the driver answers to
    /// FileNameInformation, so the query goes down as IRP_MJ_QUERY_INFORMATION and may pend;
    /// <see cref="FileNameQueryCall"/> answers when it is back. Too small a buffer still asks the
    /// driver, for the length of its part.
    /// </summary>
    private void QueryFileName(in SyscallContext context, in NtQueryObjectRequest request, IoFileObject file)
    {
        var call = new FileNameQueryCall(context.Reply, _ob.FullNameOf(file.DeviceObject) ?? "", request.BufferAddress, request.Length);
        var length = call.DriverLength;
        if (length > WireProtocol.MaxTransferLength)
        {
            context.Reply.Send(NtStatus.STATUS_INSUFFICIENT_RESOURCES, new NtQueryObjectReply(0, 0));
            return;
        }
        ObjectManager.Reference(file);
        var parameters = new StackParameters
        {
            QueryFile = new QueryFileParameters { Length = length, FileInformationClass = FileInformationClass.FileNameInformation },
        };
        StartWaitedRequest(context, file, IrpMajorFunction.IRP_MJ_QUERY_INFORMATION, length, default, 0, parameters, call, 0);
    }

    private void QueryType(in SyscallContext context, in NtQueryObjectRequest request, ObjectType type)
    {
        var nameBytes = type.Name.Length * 2;
        var required = TypeInformationSize + nameBytes + 2;
        if (request.Length < required)
        {
            context.Reply.Send(NtStatus.STATUS_INFO_LENGTH_MISMATCH, new NtQueryObjectReply((uint)required, 0));
            return;
        }
        var buffer = ArrayPool<byte>.Shared.Rent(required);
        var span = buffer.AsSpan(0, required);
        span.Clear();
        WriteUnicodeString(span, (ushort)nameBytes, (ushort)(nameBytes + 2), request.BufferAddress + TypeInformationSize);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], _ob.InfoOf(type).ObjectCount);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], _ob.InfoOf(type).HandleCount);
        BinaryPrimitives.WriteUInt32LittleEndian(span[68..], type.GenericMapping.GenericRead);
        BinaryPrimitives.WriteUInt32LittleEndian(span[72..], type.GenericMapping.GenericWrite);
        BinaryPrimitives.WriteUInt32LittleEndian(span[76..], type.GenericMapping.GenericExecute);
        BinaryPrimitives.WriteUInt32LittleEndian(span[80..], type.GenericMapping.GenericAll);
        BinaryPrimitives.WriteUInt32LittleEndian(span[84..], type.ValidAccessMask);
        span[88] = 1; // SecurityRequired
        span[90] = (byte)(type.Index + 2); // TypeIndex: Windows starts at 2
        MemoryMarshal.AsBytes(type.Name.AsSpan()).CopyTo(span[TypeInformationSize..]);
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new NtQueryObjectReply((uint)required, (uint)required), span);
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private static void WriteUnicodeString(Span<byte> destination, ushort length, ushort maximumLength, ulong address)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, length);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], maximumLength);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], address);
    }

    /// <summary>
    /// NtQueryDirectoryObject: entries, then a zeroed terminator entry, then the strings; the context
    /// is an index. Statuses follow Windows: NO_MORE_ENTRIES, BUFFER_TOO_SMALL (single entry), MORE_ENTRIES.
    /// </summary>
    public void NtQueryDirectoryObject(in SyscallContext context, in NtQueryDirectoryObjectRequest request)
    {
        var start = request.RestartScan != 0 ? 0 : (int)Math.Min(request.Context, int.MaxValue);
        List<(string Name, string TypeName)> entries;
        using (var directory = Reference<DirectoryObject>(context, request.Handle, AccessMask.DIRECTORY_QUERY, ObjectTypes.Directory))
        {
            if (Refused(context, directory.Status, new NtQueryDirectoryObjectReply(request.Context, 0, 0, 0))) return;
            entries = _ob.EnumerateDirectory(directory.Value, start);
        }

        static int StringsOf((string Name, string TypeName) e) => e.Name.Length * 2 + 2 + e.TypeName.Length * 2 + 2;

        if (entries.Count == 0)
        {
            var terminator = request.Length >= DirectoryEntrySize ? DirectoryEntrySize : 0;
            Span<byte> zero = stackalloc byte[DirectoryEntrySize];
            zero.Clear();
            context.Reply.Send(NtStatus.STATUS_NO_MORE_ENTRIES,
                new NtQueryDirectoryObjectReply(request.Context, DirectoryEntrySize, (uint)terminator, 0), zero[..terminator]);
            return;
        }

        int count;
        NtStatus result;
        if (request.ReturnSingleEntry != 0)
        {
            var needed = 2 * DirectoryEntrySize + StringsOf(entries[0]);
            if (request.Length < needed)
            {
                context.Reply.Send(NtStatus.STATUS_BUFFER_TOO_SMALL, new NtQueryDirectoryObjectReply(request.Context, (uint)needed, 0, 0));
                return;
            }
            count = 1;
            result = NtStatus.STATUS_SUCCESS;
        }
        else
        {
            count = 0;
            var size = DirectoryEntrySize;
            while (count < entries.Count && size + DirectoryEntrySize + StringsOf(entries[count]) <= request.Length)
            {
                size += DirectoryEntrySize + StringsOf(entries[count]);
                count++;
            }
            result = count == entries.Count ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_MORE_ENTRIES;
        }

        var total = DirectoryEntrySize * (count + 1);
        for (var i = 0; i < count; i++) total += StringsOf(entries[i]);
        var written = count == 0 ? Math.Min(total, (int)Math.Min(request.Length, DirectoryEntrySize)) : total;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(total, 1));
        var span = buffer.AsSpan(0, total);
        span.Clear();
        var stringOffset = DirectoryEntrySize * (count + 1);
        for (var i = 0; i < count; i++)
        {
            var (name, typeName) = entries[i];
            var entry = span[(i * DirectoryEntrySize)..];
            stringOffset = PlaceString(span, entry, name, stringOffset, request.BufferAddress);
            stringOffset = PlaceString(span, entry[UnicodeStringSize..], typeName, stringOffset, request.BufferAddress);
        }
        context.Reply.Send(result, new NtQueryDirectoryObjectReply((uint)(start + count), (uint)total, (uint)written, 0), span[..written]);
        ArrayPool<byte>.Shared.Return(buffer);
    }

    private static int PlaceString(Span<byte> buffer, Span<byte> unicodeString, string value, int offset, ulong bufferAddress)
    {
        var bytes = value.Length * 2;
        WriteUnicodeString(unicodeString, (ushort)bytes, (ushort)(bytes + 2), bufferAddress + (ulong)offset);
        MemoryMarshal.AsBytes(value.AsSpan()).CopyTo(buffer[offset..]);
        return offset + bytes + 2;
    }
}
