using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Ddk;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Ob;

namespace KernelBridge.Kernel.Ke;

/// <summary>
/// The dispatcher's system services: events, semaphores, mutants, timers (each in its own file),
/// waits and APCs. Handles to dispatcher objects resolve here once.
/// </summary>
internal sealed partial class KeServices(Dispatcher dispatcher, ObjectManager ob)
{
    public void Register(ServiceTable table)
    {
        RegisterEvents(table);
        RegisterSemaphores(table);
        RegisterMutants(table);
        RegisterTimers(table);
        RegisterWaits(table);
    }

    /// <summary>A handle to a dispatcher object of <paramref name="type"/> with <paramref name="access"/>, referenced.</summary>
    private static NtStatus Reference<T>(in SyscallContext context, long handle, uint access, ObjectType type, out T? obj) where T : KernelObject
    {
        var status = ObjectManager.ReferenceByHandle(context.Process, context.Thread, handle, access, type, ProcessorMode.UserMode, out var any, out _);
        obj = any as T;
        return status;
    }

    /// <summary>
    /// The shape every handle operation shares: no trailing data, a handle of the right type with
    /// the right access (referenced for the duration), then the operation's status and reply.
    /// </summary>
    private void Operate<T, TReply>(in SyscallContext context, long handle, uint access, ObjectType type, ReadOnlySpan<byte> data,
        string service, Func<T, (NtStatus Status, TReply Reply)> operation)
        where T : KernelObject
        where TReply : unmanaged
    {
        new WireReader(data).EnsureEnd(service);
        var status = Reference<T>(context, handle, access, type, out var obj);
        if (!status.IsSuccess)
        {
            context.Reply.Send(status, default(TReply));
            return;
        }
        try
        {
            var (result, reply) = operation(obj!);
            context.Reply.Send(result, reply);
        }
        finally
        {
            ob.Dereference(obj!);
        }
    }

    private static string ReadName(ReadOnlySpan<byte> data, uint nameBytes, string service)
    {
        var reader = new WireReader(data);
        var name = reader.TakeString(nameBytes, "ObjectName");
        reader.EnsureEnd(service);
        return name;
    }

    private void Create(in SyscallContext context, KernelObject body, long root, string name, uint attributes, uint access)
    {
        var status = ob.InsertObject(context.Process, context.Thread, ob.Track(body), root, name, attributes, access, out var handle);
        context.Reply.Send(status, new HandleReply(handle));
    }

    private void Open(in SyscallContext context, long root, string name, uint attributes, ObjectType type, uint access)
    {
        var status = ob.OpenObjectByName(context.Process, context.Thread, root, name, attributes, type, access, openLink: false, out var handle);
        context.Reply.Send(status, new HandleReply(handle));
    }

    public static byte[] ApcBytes(KUserApc[] apcs)
    {
        var records = new ApcRecord[apcs.Length];
        for (var i = 0; i < apcs.Length; i++) records[i] = new ApcRecord(apcs[i].Routine, apcs[i].Argument1, apcs[i].Argument2, apcs[i].Argument3);
        return MemoryMarshal.AsBytes(records.AsSpan()).ToArray();
    }
}
