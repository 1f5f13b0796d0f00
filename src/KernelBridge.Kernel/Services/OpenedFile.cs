using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;

namespace KernelBridge.Kernel.Services;

/// <summary>The end of an open a driver accepted (NtCreateFile, the filter port's connect): the caller's handle.</summary>
internal static class OpenedFile
{
    /// <summary>
    /// The handle, and the file signalled. When none can be made (the process is going away) the
    /// driver saw CREATE, so it gets CLEANUP (then CLOSE) instead, and the status says why.
    /// </summary>
    public static NtStatus MakeHandle(IoManager io, ObjectManager ob, ProcessObject process, IoFileObject file, HandleAttributes attributes, out long handle)
    {
        var status = ob.CreateHandle(process, file, file.GrantedAccess, attributes, out handle);
        if (status.IsSuccess) io.HandleCreated(file);
        else io.AbandonOpen(file, process);
        return status;
    }
}
