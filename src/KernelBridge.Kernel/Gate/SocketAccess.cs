using KernelBridge.Platform;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// Who may connect to the socket: its owner alone (0600), or for a multi-user kernel everyone
/// (0666) or one group (0660). Whoever connects is still only what SO_PEERCRED says it is: its own
/// process, its own handle table and a token the access checks judge.
/// </summary>
internal static class SocketAccess
{
    public static void Apply(string socketPath, KernelOptions options)
    {
        const UnixFileMode owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!options.MultiUser)
        {
            File.SetUnixFileMode(socketPath, owner);
            return;
        }
        if (options.MultiUserGroup is not { } group)
        {
            File.SetUnixFileMode(socketPath, owner | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
            return;
        }
        var gid = InstanceDirectory.ResolveGroup(group);
        if (Libc.SetGroup(socketPath, gid) is var error and not 0)
            throw new UnauthorizedAccessException($"cannot give {socketPath} to group {group} (errno {error})");
        File.SetUnixFileMode(socketPath, owner | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
    }
}
