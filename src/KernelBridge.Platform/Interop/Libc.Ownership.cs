using System.Runtime.InteropServices;

namespace KernelBridge.Platform.Interop;

/// <summary>A file's group (a multi-user kernel's directory and socket belong to the group it serves).</summary>
public static partial class Libc
{
    [LibraryImport(Lib, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lchown(string pathname, uint owner, uint group);

    /// <summary>Gives <paramref name="path"/> (not what a link points to) to <paramref name="gid"/>, keeping its owner; the errno on failure.</summary>
    public static int SetGroup(string path, uint gid) => lchown(path, uint.MaxValue, gid) == 0 ? 0 : Marshal.GetLastPInvokeError();
}
