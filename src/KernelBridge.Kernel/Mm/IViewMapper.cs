using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Kernel.Mm;

/// <summary>
/// How the memory manager's decisions about a user process's address space reach it: the gate
/// tells the client library to map or unmap, ahead of any later result the process gets. The
/// executive never touches the transport; this is the seam.
/// </summary>
internal interface IViewMapper
{
    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="memory"/> from <paramref name="offset"/> at <paramref name="address"/>; false if the process is gone.</summary>
    bool Map(ulong address, ulong length, long offset, uint protection, SafeFileHandle memory);

    /// <summary>Gives the range back to the process's reservation.</summary>
    void Unmap(ulong address, ulong length);
}
