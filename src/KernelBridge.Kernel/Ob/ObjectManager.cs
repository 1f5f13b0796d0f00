using KernelBridge.Kernel.Ps;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Ob;

/// <summary>
/// The object manager: the namespace (\, \Device, \Driver, \??, \BaseNamedObjects, \ObjectTypes),
/// reference and handle counts, and the handle operations every service goes through.
/// </summary>
internal sealed partial class ObjectManager
{
    public const long CurrentProcessHandle = -1;
    public const long CurrentThreadHandle = -2;
    private const int MaxReparse = 32;

    /// <summary>Guards every directory's contents and every name.</summary>
    private readonly Lock _namespaceLock = new();
    private int _totalObjects;
    private int _totalHandles;
    private readonly ObjectTypeInfo[] _types = [.. ObjectTypes.All.Select(type => new ObjectTypeInfo(type))];

    public ObjectManager()
    {
        Root = Track(new DirectoryObject());
        Root.Header.Permanent = true;
        Root.Header.Inserted = true;
        foreach (var path in new[] { @"\ObjectTypes", @"\Device", @"\Driver", @"\??", @"\BaseNamedObjects", @"\KernelObjects" })
            CreatePermanentDirectory(path);
        foreach (var type in ObjectTypes.All)
            InsertPermanent(Track(new TypeObject(type)), @"\ObjectTypes\" + type.Name);
        // \DosDevices is the old name of \??; \??\GLOBALROOT leads back to the root.
        InsertPermanent(Track(new SymbolicLinkObject(@"\??")), @"\DosDevices");
        InsertPermanent(Track(new SymbolicLinkObject("")), @"\??\GLOBALROOT");
    }

    public DirectoryObject Root { get; }

    public int TotalObjects => Volatile.Read(ref _totalObjects);
    public int TotalHandles => Volatile.Read(ref _totalHandles);

    /// <summary>This kernel's state for <paramref name="type"/> (counts and procedures).</summary>
    public ObjectTypeInfo InfoOf(ObjectType type) => _types[type.Index];

    public void SetProcedures(ObjectType type, ObjectTypeProcedures procedures) => InfoOf(type).Procedures = procedures;

    private ObjectTypeProcedures ProceduresOf(KernelObject obj) => InfoOf(obj.ObjectType).Procedures;

    /// <summary>This kernel as drivers reach it (objects it makes belong to it).</summary>
    public IKernelRuntime? Runtime { get; set; }

    /// <summary>Counts a newly created object (its creator holds its one reference) and makes it this kernel's.</summary>
    public T Track<T>(T obj) where T : KernelObject
    {
        obj.Header.Runtime = Runtime;
        Interlocked.Increment(ref InfoOf(obj.ObjectType).Objects);
        Interlocked.Increment(ref _totalObjects);
        return obj;
    }

    // ---- References ----

    /// <summary>Takes a reference unless the object is already on its way out (count at zero).</summary>
    public static bool TryReference(KernelObject obj)
    {
        var count = Volatile.Read(ref obj.Header.PointerCount);
        while (count > 0)
        {
            var seen = Interlocked.CompareExchange(ref obj.Header.PointerCount, count + 1, count);
            if (seen == count) return true;
            count = seen;
        }
        return false;
    }

    public static void Reference(KernelObject obj)
    {
        var count = Interlocked.Increment(ref obj.Header.PointerCount);
        if (count <= 1) throw new InvalidOperationException($"reference to a deleted {obj.ObjectType.Name} object");
    }

    public void Dereference(KernelObject obj)
    {
        var count = Interlocked.Decrement(ref obj.Header.PointerCount);
        if (count > 0) return;
        if (count < 0) throw new InvalidOperationException($"{obj.ObjectType.Name} object dereferenced below zero");
        obj.Header.Deleted = true;
        if (obj.Header.Inserted) RemoveName(obj);
        Interlocked.Decrement(ref InfoOf(obj.ObjectType).Objects);
        Interlocked.Decrement(ref _totalObjects);
        ProceduresOf(obj).Delete(obj);
    }

    // ---- Names ----

    /// <summary>The object's full path (\Device\Echo), or null if it has no name.</summary>
    public string? FullNameOf(KernelObject obj)
    {
        if (ReferenceEquals(obj, Root)) return @"\";
        lock (_namespaceLock)
        {
            if (!obj.Header.Inserted || obj.Header.Name is null) return null;
            var parts = new Stack<string>();
            for (KernelObject? o = obj; o is not null && !ReferenceEquals(o, Root); o = o.Header.Directory)
                parts.Push(o.Header.Name ?? "");
            return @"\" + string.Join('\\', parts);
        }
    }

    /// <summary>Inserts a kernel-created object under a full name, permanent (the namespace holds a reference).</summary>
    public NtStatus InsertPermanent(KernelObject obj, string fullName, bool caseInsensitive = true)
    {
        var status = InsertName(obj, null, fullName, caseInsensitive);
        if (!status.IsSuccess) return status;
        obj.Header.Permanent = true;
        Reference(obj);
        return status;
    }

    /// <summary>Puts an object under a name; STATUS_OBJECT_NAME_COLLISION if taken.</summary>
    public NtStatus InsertName(KernelObject obj, KernelObject? root, string name, bool caseInsensitive)
    {
        var split = SplitParent(name, root);
        if (!split.Status.IsSuccess) return split.Status;
        var status = LookupObject(split.Parent, root, caseInsensitive, openLink: false, out var parentObj, out var remaining);
        if (!status.IsSuccess)
            return status == NtStatus.STATUS_OBJECT_NAME_NOT_FOUND ? NtStatus.STATUS_OBJECT_PATH_NOT_FOUND : status;
        try
        {
            if (parentObj is not DirectoryObject parent || remaining.Length != 0) return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
            lock (_namespaceLock)
            {
                if (!parent.TryInsertUnsynchronized(split.Leaf, obj, caseInsensitive)) return NtStatus.STATUS_OBJECT_NAME_COLLISION;
                obj.Header.Name = split.Leaf;
                obj.Header.Directory = parent;
                obj.Header.Inserted = true;
            }
            return NtStatus.STATUS_SUCCESS;
        }
        finally
        {
            Dereference(parentObj!);
        }
    }

    private void RemoveName(KernelObject obj)
    {
        lock (_namespaceLock)
        {
            if (!obj.Header.Inserted) return;
            (obj.Header.Directory as DirectoryObject)?.RemoveUnsynchronized(obj);
            obj.Header.Inserted = false;
        }
    }

    /// <summary>ObMakeTemporaryObject: the name goes now, the namespace's reference with it.</summary>
    public void MakeTemporary(KernelObject obj)
    {
        var wasPermanent = obj.Header.Permanent;
        obj.Header.Permanent = false;
        RemoveName(obj);
        if (wasPermanent) Dereference(obj);
    }

    private void CreatePermanentDirectory(string path)
    {
        var directory = Track(new DirectoryObject());
        var status = InsertPermanent(directory, path);
        if (!status.IsSuccess) throw new InvalidOperationException($"cannot create {path}: {status}");
        Dereference(directory);
    }

    private readonly record struct ParentSplit(NtStatus Status, string Parent, string Leaf);

    private static ParentSplit SplitParent(string name, KernelObject? root)
    {
        var cut = name.LastIndexOf('\\');
        if (root is null)
        {
            if (cut < 0) return new(NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD, "", "");
            var leaf = name[(cut + 1)..];
            if (leaf.Length == 0) return new(NtStatus.STATUS_OBJECT_NAME_INVALID, "", "");
            return new(NtStatus.STATUS_SUCCESS, cut == 0 ? @"\" : name[..cut], leaf);
        }
        if (name.Length == 0 || name[0] == '\\') return new(NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD, "", "");
        return cut < 0
            ? new(NtStatus.STATUS_SUCCESS, "", name)
            : new(name[(cut + 1)..].Length == 0 ? NtStatus.STATUS_OBJECT_NAME_INVALID : NtStatus.STATUS_SUCCESS, name[..cut], name[(cut + 1)..]);
    }

    /// <summary>
    /// ObpLookupObjectName: walks directories, follows symbolic links (the last one too, unless
    /// <paramref name="openLink"/>) and stops at the first object that parses the rest itself (a
    /// device), returning what is left of the name in <paramref name="remaining"/> ("" or "\rest").
    /// The object comes back referenced.
    /// </summary>
    public NtStatus LookupObject(string name, KernelObject? root, bool caseInsensitive, bool openLink,
        out KernelObject? found, out string remaining)
    {
        found = null;
        remaining = "";
        string path;
        KernelObject current;
        if (root is null)
        {
            if (name.Length == 0 || name[0] != '\\') return NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD;
            current = Root;
            path = name[1..];
        }
        else
        {
            if (name.Length > 0 && name[0] == '\\') return NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD;
            if (root is SymbolicLinkObject) return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
            current = root;
            path = name;
        }

        lock (_namespaceLock)
        {
            var reparses = 0;
            while (true)
            {
                if (path.Length == 0)
                {
                    found = current;
                    break;
                }
                if (current is not DirectoryObject directory)
                {
                    if (current is DeviceObject)
                    {
                        found = current;
                        remaining = @"\" + path;
                        break;
                    }
                    return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
                }
                var cut = path.IndexOf('\\');
                var component = cut < 0 ? path : path[..cut];
                string? rest = cut < 0 ? null : path[(cut + 1)..];
                if (component.Length == 0) return NtStatus.STATUS_OBJECT_NAME_INVALID;
                var child = directory.LookupUnsynchronized(component, caseInsensitive);
                if (child is null) return rest is null ? NtStatus.STATUS_OBJECT_NAME_NOT_FOUND : NtStatus.STATUS_OBJECT_PATH_NOT_FOUND;
                if (child is SymbolicLinkObject link && !(rest is null && openLink))
                {
                    if (++reparses > MaxReparse) return NtStatus.STATUS_OBJECT_NAME_NOT_FOUND;
                    var target = link.Target + (rest is null ? "" : @"\" + rest);
                    if (target.Length > 0 && target[0] != '\\') return NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD;
                    current = Root;
                    path = target.Length == 0 ? "" : target[1..];
                    continue;
                }
                if (rest is null)
                {
                    found = child;
                    break;
                }
                if (child is DeviceObject)
                {
                    found = child;
                    remaining = @"\" + rest;
                    break;
                }
                if (child is not DirectoryObject) return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
                // "\Device\" names an empty component after the directory.
                if (rest.Length == 0) return NtStatus.STATUS_OBJECT_NAME_INVALID;
                current = child;
                path = rest;
            }
            if (!TryReference(found)) return NtStatus.STATUS_OBJECT_NAME_NOT_FOUND;
            return NtStatus.STATUS_SUCCESS;
        }
    }

    /// <summary>A snapshot of a directory's entries from <paramref name="start"/> on: (name, type name).</summary>
    public List<(string Name, string TypeName)> EnumerateDirectory(DirectoryObject directory, int start)
    {
        lock (_namespaceLock)
        {
            var entries = new List<(string, string)>(Math.Max(0, directory.CountUnsynchronized - start));
            for (var i = start; i < directory.CountUnsynchronized; i++)
            {
                var entry = directory.EntryAtUnsynchronized(i);
                entries.Add((entry.Header.Name ?? "", entry.ObjectType.Name));
            }
            return entries;
        }
    }

    // ---- Handles ----

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
                    status = AccessCheck.Check(obj!.ObjectType, desiredAccess, out granted);
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

/// <summary>An object type as an object (\ObjectTypes\Event).</summary>
internal sealed class TypeObject(ObjectType described) : KernelObject(ObjectTypes.Type)
{
    public ObjectType Described { get; } = described;
}

internal sealed partial class ObjectManager
{
    /// <summary>The name NtQueryObject reports for anything but a file (whose driver is asked): the namespace name, else "".</summary>
    public string NameForQuery(KernelObject obj) => FullNameOf(obj) ?? "";
}
