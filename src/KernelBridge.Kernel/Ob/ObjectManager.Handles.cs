using KernelBridge.Kernel.Ps;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Ob;

/// <summary>The object manager's handle operations: create, close, release, reference by handle, duplicate.</summary>
internal sealed partial class ObjectManager
{
    /// <summary>Creates a handle holding its own reference; the caller keeps its reference.</summary>
    public NtStatus CreateHandle(ProcessObject process, KernelObject obj, uint grantedAccess, HandleAttributes attributes, out long handle)
    {
        if (process.Terminating)
        {
            handle = 0;
            return NtStatus.STATUS_PROCESS_IS_TERMINATING;
        }
        Reference(obj);
        var status = process.Handles.Insert(new HandleEntry(obj, grantedAccess, attributes), out handle);
        if (!status.IsSuccess)
        {
            Dereference(obj);
            return status;
        }
        Interlocked.Increment(ref obj.Header.HandleCount);
        Interlocked.Increment(ref InfoOf(obj.ObjectType).Handles);
        Interlocked.Increment(ref _totalHandles);
        return status;
    }

    /// <summary>NtClose's work: STATUS_INVALID_HANDLE, STATUS_HANDLE_NOT_CLOSABLE or success.</summary>
    public NtStatus CloseHandle(ProcessObject process, long handle)
    {
        var status = process.Handles.Remove(handle, out var entry);
        if (!status.IsSuccess) return status;
        ReleaseHandle(process, entry);
        return status;
    }

    /// <summary>Drops what a removed handle held: its handle count (maybe a close procedure) and its reference.</summary>
    public void ReleaseHandle(ProcessObject process, in HandleEntry entry)
    {
        var obj = entry.Object;
        System.Diagnostics.Debug.Assert(Volatile.Read(ref obj.Header.HandleCount) > 0, "a handle being released was counted");
        var remaining = Interlocked.Decrement(ref obj.Header.HandleCount);
        Interlocked.Decrement(ref InfoOf(obj.ObjectType).Handles);
        Interlocked.Decrement(ref _totalHandles);
        ProceduresOf(obj).Close(obj, process, remaining);
        if (remaining == 0 && !obj.Header.Permanent && obj.Header.Inserted && ProceduresOf(obj).TemporaryWhenUnnamedHandles)
            RemoveName(obj);
        Dereference(obj);
    }

    /// <summary>
    /// ObReferenceObjectByHandle: resolves pseudo-handles, checks the type and (for user mode) the
    /// granted access. The object comes back referenced.
    /// </summary>
    public static NtStatus ReferenceByHandle(ProcessObject process, ThreadObject? thread, long handle, uint desiredAccess,
        ObjectType? type, ProcessorMode mode, out KernelObject? obj, out uint grantedAccess)
    {
        obj = null;
        grantedAccess = 0;
        KernelObject target;
        if (handle == CurrentProcessHandle)
        {
            target = process;
            grantedAccess = AccessMask.PROCESS_ALL_ACCESS;
        }
        else if (handle == CurrentThreadHandle && thread is not null)
        {
            target = thread;
            grantedAccess = AccessMask.THREAD_ALL_ACCESS;
        }
        else if (process.Handles.TryGet(handle, out var entry))
        {
            target = entry.Object;
            grantedAccess = entry.GrantedAccess;
        }
        else return NtStatus.STATUS_INVALID_HANDLE;

        if (type is not null && !ReferenceEquals(target.ObjectType, type)) return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
        if (mode == ProcessorMode.UserMode)
        {
            var wanted = target.ObjectType.GenericMapping.Map(desiredAccess);
            if ((wanted & ~grantedAccess) != 0) return NtStatus.STATUS_ACCESS_DENIED;
        }
        if (!TryReference(target)) return NtStatus.STATUS_INVALID_HANDLE;
        obj = target;
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>
    /// ObReferenceObjectByHandle, typed and scoped: the object as <typeparamref name="T"/> (another
    /// body behind a handle of the right type is STATUS_OBJECT_TYPE_MISMATCH), released when the
    /// returned reference is disposed.
    /// </summary>
    public ObRef<T> ReferenceByHandle<T>(ProcessObject process, ThreadObject? thread, long handle, uint desiredAccess, ObjectType? type,
        ProcessorMode mode) where T : KernelObject
    {
        var status = ReferenceByHandle(process, thread, handle, desiredAccess, type, mode, out var obj, out var granted);
        if (!status.IsSuccess) return ObRef<T>.Failed(status);
        if (obj is T typed) return new ObRef<T>(this, typed, granted);
        Dereference(obj!);
        return ObRef<T>.Failed(NtStatus.STATUS_OBJECT_TYPE_MISMATCH);
    }

    /// <summary>NtDuplicateObject between two processes (the same one, usually).</summary>
    public NtStatus Duplicate(ProcessObject source, long sourceHandle, ProcessObject? target, uint desiredAccess,
        HandleAttributes attributes, DuplicateOptions options, ThreadObject? thread, out long targetHandle)
    {
        targetHandle = 0;
        var status = ReferenceByHandle(source, thread, sourceHandle, 0, null, ProcessorMode.KernelMode, out var obj, out var sourceAccess);
        if (!status.IsSuccess) return status;
        try
        {
            source.Handles.TryGet(sourceHandle, out var sourceEntry);
            if (target is not null)
            {
                uint granted;
                if ((options & DuplicateOptions.DUPLICATE_SAME_ACCESS) != 0) granted = sourceAccess;
                else
                {
                    // Rights the source handle holds pass; asking for more is an access check against
                    // the object's descriptor with the target's token (ObpIncrementHandleCount's ObDuplicateHandle case).
                    var wanted = obj!.ObjectType.GenericMapping.Map(desiredAccess);
                    status = (wanted & ~sourceAccess) == 0
                        ? CheckCreatorAccess(obj.ObjectType, target.Token, desiredAccess, out granted)
                        : CheckAccess(obj, target.Token, desiredAccess, out granted);
                    if (!status.IsSuccess) return status;
                }
                var newAttributes = (options & DuplicateOptions.DUPLICATE_SAME_ATTRIBUTES) != 0 ? sourceEntry.Attributes : attributes;
                status = CreateHandle(target, obj!, granted, newAttributes, out targetHandle);
                if (!status.IsSuccess) return status;
            }
            return NtStatus.STATUS_SUCCESS;
        }
        finally
        {
            Dereference(obj!);
            // DUPLICATE_CLOSE_SOURCE closes the source whatever happened; a protected handle stays.
            if ((options & DuplicateOptions.DUPLICATE_CLOSE_SOURCE) != 0 && sourceHandle > 0) CloseHandle(source, sourceHandle);
        }
    }
}
