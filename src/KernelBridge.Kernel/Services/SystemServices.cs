using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// The system service table (KiServiceTable): one handler per Nt* call, in the file of the object
/// type it serves (Event.cs holds NtSetEvent; the dispatcher's KeSetEvent is in Ke/). A handler
/// checks the request, calls the executive and answers through the context; this layer is the only
/// kernel code that knows the wire types. Decoding, the data checks and the service numbers come
/// from the protocol declarations (<see cref="ISyscallHandlers{TContext}"/> is generated): a
/// declared call without a handler does not compile.
/// </summary>
internal sealed partial class SystemServices : ISyscallHandlers<SyscallContext>
{
    private readonly KernelHost _host;
    private readonly ObjectManager _ob;
    private readonly IoManager _io;
    private readonly Ke.Dispatcher _dispatcher;
    private readonly DriverLoader _drivers;

    public SystemServices(KernelHost host)
    {
        _host = host;
        _ob = host.ObjectManager;
        _io = host.IoManager;
        _dispatcher = host.Dispatcher;
        _drivers = host.DriverLoader;
        _waitCalls = WaitCall.NewPool(_dispatcher, _ob);
        _removeCalls = RemoveCompletionCall.NewPool(_dispatcher, _ob);
    }

    /// <summary>The caller's handle to an object of <paramref name="type"/> with <paramref name="access"/>, for the scope of the call.</summary>
    private ObRef<T> Reference<T>(in SyscallContext context, long handle, uint access, ObjectType? type) where T : KernelObject =>
        _ob.ReferenceByHandle<T>(context.Process, context.Thread, handle, access, type, ProcessorMode.UserMode);

    /// <summary>NtCreateXxx of a named object: the new body, unnamed or under its name (OBJ_OPENIF opens an existing one).</summary>
    private void CreateNamed(in SyscallContext context, KernelObject body, long root, ReadOnlySpan<char> name, uint attributes, uint access,
        ReadOnlySpan<byte> securityDescriptor = default)
    {
        var tracked = _ob.Track(body);
        if (!CaptureSecurityDescriptor(securityDescriptor, out var descriptor, out var status))
        {
            _ob.Dereference(tracked);
            context.Reply.Send(status, new HandleReply(0));
            return;
        }
        status = _ob.InsertObject(context.Process, context.Thread, tracked, root, new string(name), attributes, access, descriptor, out var handle);
        context.Reply.Send(status, new HandleReply(handle));
    }

    /// <summary>NtOpenXxx: an existing object of <paramref name="type"/> by name.</summary>
    private void OpenNamed(in SyscallContext context, long root, ReadOnlySpan<char> name, uint attributes, ObjectType type, uint access, bool openLink = false)
    {
        var status = _ob.OpenObjectByName(context.Process, context.Thread, root, new string(name), attributes, type, access, openLink, out var handle);
        context.Reply.Send(status, new HandleReply(handle));
    }

    /// <summary>User APCs as they travel in a wait's reply.</summary>
    internal static byte[] ApcBytes(ReadOnlySpan<KUserApc> apcs)
    {
        if (apcs.IsEmpty) return [];
        var records = new ApcRecord[apcs.Length];
        for (var i = 0; i < apcs.Length; i++) records[i] = new ApcRecord(apcs[i].Routine, apcs[i].Argument1, apcs[i].Argument2, apcs[i].Argument3);
        return MemoryMarshal.AsBytes(records.AsSpan()).ToArray();
    }

    /// <summary>Answers a failure with <paramref name="reply"/> (the reply's zero value by default); true if it did, so the handler returns.</summary>
    private static bool Refused<TReply>(in SyscallContext context, NtStatus status, TReply reply) where TReply : unmanaged
    {
        if (status.IsSuccess) return false;
        context.Reply.Send(status, reply);
        return true;
    }

    /// <summary>As <see cref="Refused{TReply}"/>, for an I/O service: nothing is written to the caller.</summary>
    private static bool RefusedIo(in SyscallContext context, NtStatus status)
    {
        if (status.IsSuccess) return false;
        FailIo(context, status);
        return true;
    }

    /// <summary>An I/O service that fails before any IRP: the status, nothing written to the caller.</summary>
    private static void FailIo(in SyscallContext context, NtStatus status) =>
        context.Reply.Send(status, new IoTransferReply(default, IoReplyFlags.None, 0));

    /// <summary>An I/O service answered without a driver: the status, also in the caller's IOSB.</summary>
    private static void SucceedWithIosb(in SyscallContext context, NtStatus status) => SucceedWithIosb(context.Reply, status);

    private static void SucceedWithIosb(ReplyTarget reply, NtStatus status) =>
        reply.Send(status, new IoTransferReply(new IoStatusWire(status, 0, 0), IoReplyFlags.IosbWritten, 0));

    private static HandleAttributes HandleAttributesOf(uint attributes) =>
        (attributes & (uint)ObjectAttributeFlags.OBJ_INHERIT) != 0 ? HandleAttributes.Inherit : HandleAttributes.None;
}
