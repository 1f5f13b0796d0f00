using System.Diagnostics;

namespace KernelBridge.Kernel.Ob;

/// <summary>
/// A scoped reference to an object (what ObReferenceObjectByHandle hands back): <c>using var file =
/// ob.ReferenceByHandle&lt;IoFileObject&gt;(...)</c> releases it on every exit path. A longer-lived
/// owner takes its own reference with <see cref="Share"/>. When the lookup failed,
/// <see cref="Status"/> says why and there is nothing to release.
/// </summary>
internal readonly struct ObRef<T> : IDisposable where T : KernelObject
{
    private readonly ObjectManager? _ob;
    private readonly T? _value;

    public ObRef(ObjectManager ob, T value, uint grantedAccess)
    {
        _ob = ob;
        _value = value;
        GrantedAccess = grantedAccess;
        Status = NtStatus.STATUS_SUCCESS;
    }

    private ObRef(NtStatus status)
    {
        Debug.Assert(!status.IsSuccess, "a failed reference has a failure status");
        Status = status;
    }

    public static ObRef<T> Failed(NtStatus status) => new(status);

    public NtStatus Status { get; }

    /// <summary>The access the handle granted (what a service checks beyond the lookup).</summary>
    public uint GrantedAccess { get; }

    /// <summary>The object; only valid when <see cref="Status"/> is a success.</summary>
    public T Value
    {
        get
        {
            Debug.Assert(_value is not null, "no object behind a failed reference");
            return _value!;
        }
    }

    /// <summary>A reference of the caller's own, for an owner that outlives this scope (a request, a wait).</summary>
    public T Share()
    {
        ObjectManager.Reference(Value);
        return Value;
    }

    public void Dispose()
    {
        if (_value is not null) _ob!.Dereference(_value);
    }
}
