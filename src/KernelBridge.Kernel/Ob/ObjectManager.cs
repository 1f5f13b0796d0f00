using KernelBridge.Abi.Security;
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
        SecureNamespace();
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

    /// <summary>
    /// Puts an object under a name; STATUS_OBJECT_NAME_COLLISION if taken. With a
    /// <paramref name="creator"/> (a process's create), the directory must let it create there, and
    /// the object gets its descriptor (<see cref="AssignSecurity"/>) before anyone can find it.
    /// </summary>
    public NtStatus InsertName(KernelObject obj, KernelObject? root, string name, bool caseInsensitive, Token? creator = null,
        SecurityDescriptor? descriptor = null)
    {
        var split = SplitParent(name, root);
        if (!split.Status.IsSuccess) return split.Status;
        var status = LookupObject(split.Parent, root, caseInsensitive, openLink: false, out var parentObj, out var remaining);
        if (!status.IsSuccess)
            return status == NtStatus.STATUS_OBJECT_NAME_NOT_FOUND ? NtStatus.STATUS_OBJECT_PATH_NOT_FOUND : status;
        try
        {
            if (parentObj is not DirectoryObject parent || remaining.Length != 0) return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
            if (creator is not null)
            {
                status = CheckCreateInDirectory(parent, creator, obj is DirectoryObject);
                if (status.IsSuccess) status = AssignSecurity(obj, parent, descriptor, creator);
                if (!status.IsSuccess) return status;
            }
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
