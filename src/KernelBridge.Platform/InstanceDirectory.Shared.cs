using System.Globalization;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Platform;

/// <summary>
/// A directory named explicitly (KERNELBRIDGE_INSTANCE_DIR), and a multi-user kernel's: reachable
/// by other users (0711, or 0710 for one group), never writable by them. A client of another user
/// connects there and nothing more: it neither starts a kernel nor changes the directory.
/// </summary>
public sealed partial class InstanceDirectory
{
    /// <summary>Names the instance directory itself, for the kernel and its clients alike (a multi-user kernel's, say).</summary>
    public const string DirectoryVariable = "KERNELBRIDGE_INSTANCE_DIR";

    private const UnixFileMode GroupOrOtherWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;

    /// <summary>The directory belongs to another user (a multi-user kernel's): connect only.</summary>
    public bool Shared { get; }

    /// <summary>KERNELBRIDGE_INSTANCE_DIR as a full path, or null.</summary>
    public static string? ExplicitPath()
    {
        var path = Environment.GetEnvironmentVariable(DirectoryVariable);
        return string.IsNullOrEmpty(path) ? null : System.IO.Path.GetFullPath(path);
    }

    /// <summary>
    /// Where a multi-user kernel lives unless told otherwise: under /tmp, which every user can reach (a
    /// runtime directory is private), apart from the private /tmp/kernelbridge-UID that single-user opens keep at 0700.
    /// </summary>
    public static string MultiUserDefaultPath(string? instance) => $"/tmp/{SharedBaseName(Libc.EffectiveUserId())}/{ResolveName(instance)}";

    private static string SharedBaseName(uint uid) => $"kernelbridge-{uid}-shared";

    private static InstanceDirectory OpenExplicit(string path, bool create)
    {
        var name = System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(path));
        if (string.IsNullOrEmpty(name)) name = DefaultInstance;
        if (Libc.OwnerAndMode(path) is not { } info)
        {
            CheckAncestors(path, Libc.EffectiveUserId());
            if (create) Directory.CreateDirectory(path, OwnerOnly);
            return new InstanceDirectory(name, path);
        }
        CheckAncestors(path, info.Uid);
        const uint S_IFMT = 0xF000, S_IFDIR = 0x4000;
        if ((info.Mode & S_IFMT) != S_IFDIR) throw new UnauthorizedAccessException($"{path} is not a directory");
        // Whoever may write the directory may put a socket there that impersonates the kernel.
        if (((UnixFileMode)(info.Mode & 0x1FF) & GroupOrOtherWrite) != 0)
            throw new UnauthorizedAccessException($"{path} may be written by other users (mode {Octal(info.Mode & 0x1FF)}); refusing to use it as a KernelBridge instance directory");
        return new InstanceDirectory(name, path, shared: info.Uid != Libc.EffectiveUserId());
    }

    /// <summary>
    /// Whoever owns a directory above the instance directory, or may write in it (without the sticky
    /// bit), can move the instance directory aside and put a socket of their own in its place: every
    /// ancestor must belong to root, to this user or to the instance's owner, and be closed to others' writes
    /// or sticky (as /tmp is). A /tmp/kernelbridge-UID-shared another user made first is refused here.
    /// </summary>
    private static void CheckAncestors(string path, uint instanceOwner)
    {
        var me = Libc.EffectiveUserId();
        for (var directory = System.IO.Path.GetDirectoryName(System.IO.Path.TrimEndingDirectorySeparator(path)); !string.IsNullOrEmpty(directory);
             directory = System.IO.Path.GetDirectoryName(directory))
        {
            if (Libc.OwnerAndMode(directory) is not { } info) continue;
            if (info.Uid != 0 && info.Uid != me && info.Uid != instanceOwner)
                throw new UnauthorizedAccessException(
                    $"{directory} belongs to uid {info.Uid}, who could replace the KernelBridge instance directory {path} below it; choose another place with --dir or {DirectoryVariable}");
            const uint sticky = 0x200;
            if (((UnixFileMode)(info.Mode & 0x1FF) & GroupOrOtherWrite) != 0 && (info.Mode & sticky) == 0)
                throw new UnauthorizedAccessException(
                    $"{directory} may be written by other users (mode {Octal(info.Mode & 0xFFF)}), who could replace the KernelBridge instance directory {path} below it; choose another place with --dir or {DirectoryVariable}");
        }
    }

    /// <summary>
    /// A multi-user kernel's start: the directory becomes searchable (not listable) by everyone, or by
    /// <paramref name="groupName"/>'s members only; the directories above must let them through (our own
    /// /tmp/kernelbridge-UID-shared is opened likewise; anything else that blocks them is an error naming it).
    /// </summary>
    public void OpenToOtherUsers(string? groupName)
    {
        uint? gid = groupName is null ? null : ResolveGroup(groupName);
        var search = gid is null ? UnixFileMode.GroupExecute | UnixFileMode.OtherExecute : UnixFileMode.GroupExecute;
        Reach(Path, gid, search);
        var me = Libc.EffectiveUserId();
        for (var directory = System.IO.Path.GetDirectoryName(Path); !string.IsNullOrEmpty(directory); directory = System.IO.Path.GetDirectoryName(directory))
        {
            if (Libc.OwnerAndMode(directory) is not { } info) continue;
            var mode = (UnixFileMode)(info.Mode & 0x1FF);
            if ((mode & UnixFileMode.OtherExecute) != 0 || (gid is not null && (mode & UnixFileMode.GroupExecute) != 0)) continue;
            if (info.Uid == me && System.IO.Path.GetFileName(directory) == SharedBaseName(me))
            {
                Reach(directory, gid, search);
                continue;
            }
            throw new UnauthorizedAccessException(
                $"other users cannot reach {Path}: {directory} does not let them through (mode {Octal(info.Mode & 0x1FF)}); choose a place they can reach with --dir or {DirectoryVariable}");
        }
    }

    private static void Reach(string directory, uint? gid, UnixFileMode search)
    {
        File.SetUnixFileMode(directory, OwnerOnly | search);
        if (gid is { } group && Libc.SetGroup(directory, group) is var error and not 0)
            throw new UnauthorizedAccessException($"cannot give {directory} to group {group} (errno {error})");
    }

    /// <summary>A group by name (from /etc/group) or number; ArgumentException if there is none.</summary>
    public static uint ResolveGroup(string group)
    {
        if (uint.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out var gid)) return gid;
        if (File.Exists("/etc/group"))
        {
            foreach (var line in File.ReadLines("/etc/group"))
            {
                var fields = line.Split(':');
                if (fields.Length >= 3 && fields[0] == group && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out gid)) return gid;
            }
        }
        throw new ArgumentException($"there is no group named '{group}'", nameof(group));
    }

    private static string Octal(uint mode) => Convert.ToString((int)mode, 8);
}
