using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>The object manager's exports (Ob*).</summary>
public static class Ob
{
    /// <summary>
    /// ObReferenceObjectByHandle: looks the handle up in the current (requesting) process, checks its
    /// type and, for UserMode, the granted access; returns a referenced object to release with
    /// <see cref="DereferenceObject"/>.
    /// </summary>
    public static NtStatus ReferenceObjectByHandle(long handle, uint desiredAccess, ObjectType? objectType,
        ProcessorMode accessMode, out KernelObject? obj) =>
        KernelRuntime.Current.ReferenceObjectByHandle(handle, desiredAccess, objectType, accessMode, out obj);

    /// <summary>Typed form of <see cref="ReferenceObjectByHandle(long, uint, ObjectType?, ProcessorMode, out KernelObject?)"/>.</summary>
    public static NtStatus ReferenceObjectByHandle<T>(long handle, uint desiredAccess, ObjectType objectType,
        ProcessorMode accessMode, out T? obj) where T : KernelObject
    {
        var status = KernelRuntime.Current.ReferenceObjectByHandle(handle, desiredAccess, objectType, accessMode, out var any);
        obj = any as T;
        if (status.IsSuccess && obj is null && any is not null)
        {
            KernelRuntime.Of(any).DereferenceObject(any);
            return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
        }
        return status;
    }

    public static void ReferenceObject(KernelObject obj) => KernelRuntime.Of(obj).ReferenceObject(obj);

    public static void DereferenceObject(KernelObject obj) => KernelRuntime.Of(obj).DereferenceObject(obj);
}
