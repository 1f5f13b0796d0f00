using KernelBridge.Abi.Protocol;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Platform;

/// <summary>
/// Where an instance lives: <c>$KERNELBRIDGE_RUNTIME_DIR/&lt;instance&gt;</c> if that is set, else
/// <c>$XDG_RUNTIME_DIR/kernelbridge/&lt;instance&gt;</c>, else
/// <c>${TMPDIR:-/tmp}/kernelbridge-&lt;uid&gt;/&lt;instance&gt;</c>. Mode 0700; a directory another user owns
/// is refused, so nobody can plant a socket for us to talk to. The fallback name is predictable, so
/// another user can create it first: the refusal names the directory, its owner and the way out
/// (<see cref="RuntimeDirectoryVariable"/>).
/// </summary>
public sealed partial class InstanceDirectory
{
    public const string DefaultInstance = "default";
    public const string InstanceVariable = "KERNELBRIDGE_INSTANCE";

    /// <summary>The directory that holds the instances, chosen by hand (it wins over XDG_RUNTIME_DIR and the fallback).</summary>
    public const string RuntimeDirectoryVariable = "KERNELBRIDGE_RUNTIME_DIR";
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private InstanceDirectory(string instance, string path, bool shared = false)
    {
        Instance = instance;
        Path = path;
        Shared = shared;
    }

    public string Instance { get; }
    public string Path { get; }
    public string SocketPath => System.IO.Path.Combine(Path, WireProtocol.SocketFileName);
    public string LockPath => System.IO.Path.Combine(Path, WireProtocol.LockFileName);
    public string StartLockPath => System.IO.Path.Combine(Path, WireProtocol.StartLockFileName);
    public string PidPath => System.IO.Path.Combine(Path, WireProtocol.PidFileName);
    public string LogPath => System.IO.Path.Combine(Path, "kernel.log");
    public string BugCheckDirectory => System.IO.Path.Combine(Path, "bugchecks");

    /// <summary>The instance named by the argument, else KERNELBRIDGE_INSTANCE, else "default".</summary>
    public static string ResolveName(string? instance)
    {
        var name = string.IsNullOrEmpty(instance) ? Environment.GetEnvironmentVariable(InstanceVariable) : instance;
        if (string.IsNullOrEmpty(name)) name = DefaultInstance;
        if (name.Length > 64 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')) || name.StartsWith('.'))
            throw new ArgumentException($"instance name '{name}' must be 1-64 characters of letters, digits, '-', '_' or '.'", nameof(instance));
        return name;
    }

    public static string BaseDirectory()
    {
        var chosen = Environment.GetEnvironmentVariable(RuntimeDirectoryVariable);
        if (!string.IsNullOrEmpty(chosen)) return System.IO.Path.GetFullPath(chosen);
        var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(runtime) && Directory.Exists(runtime))
            return System.IO.Path.Combine(runtime, "kernelbridge");
        return System.IO.Path.Combine(TemporaryDirectory(), $"kernelbridge-{Libc.EffectiveUserId()}");
    }

    /// <summary>$TMPDIR if it names a directory, else /tmp (not Path.GetTempPath, whose answer other runtimes may vary).</summary>
    private static string TemporaryDirectory()
    {
        var temporary = Environment.GetEnvironmentVariable("TMPDIR");
        return !string.IsNullOrEmpty(temporary) && Directory.Exists(temporary) ? System.IO.Path.TrimEndingDirectorySeparator(temporary) : "/tmp";
    }

    /// <summary>Finds (creating if asked) the instance directory, checking owner and mode.</summary>
    public static InstanceDirectory Open(string? instance, bool create)
    {
        if (ExplicitPath() is { } explicitPath) return OpenExplicit(explicitPath, create);
        var name = ResolveName(instance);
        var root = BaseDirectory();
        var path = System.IO.Path.Combine(root, name);
        if (create)
        {
            if (IsChosenRoot()) EnsureChosenRoot(root);
            else EnsurePrivate(root);
            EnsurePrivate(path);
        }
        else
        {
            CheckOwner(root);
            CheckOwner(path);
        }
        return new InstanceDirectory(name, path);
    }

    private static bool IsChosenRoot() => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(RuntimeDirectoryVariable));

    /// <summary>
    /// A directory the user named ($KERNELBRIDGE_RUNTIME_DIR, say $HOME) is theirs: made 0700 if missing,
    /// never chmod-ed if it exists; only refused if it is not theirs or others may write in it.
    /// </summary>
    private static void EnsureChosenRoot(string path)
    {
        if (!Directory.Exists(path)) Directory.CreateDirectory(path, OwnerOnly);
        CheckOwner(path);
        const UnixFileMode othersWrite = UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        if ((File.GetUnixFileMode(path) & othersWrite) != 0)
            throw new UnauthorizedAccessException(
                $"{path} ({RuntimeDirectoryVariable}) is writable by other users, who could replace KernelBridge's files in it; choose a directory only you can write to");
    }

    private static void EnsurePrivate(string path)
    {
        if (!Directory.Exists(path)) Directory.CreateDirectory(path, OwnerOnly);
        CheckOwner(path);
        if ((File.GetUnixFileMode(path) & ~OwnerOnly) != 0) File.SetUnixFileMode(path, OwnerOnly);
    }

    private static void CheckOwner(string path)
    {
        if (Libc.OwnerAndMode(path) is not { } info) return;
        var me = Libc.EffectiveUserId();
        if (info.Uid != me)
            throw new UnauthorizedAccessException(
                $"{path} belongs to uid {info.Uid}{UserName(info.Uid)}, not to you (uid {me}); refusing to use another user's KernelBridge instance directory. "
                + $"Set {RuntimeDirectoryVariable} (or XDG_RUNTIME_DIR) to a directory of your own, e.g. `export {RuntimeDirectoryVariable}=$HOME/.kernelbridge`, "
                + $"or have uid {info.Uid} or root remove {path}");
        const uint S_IFMT = 0xF000, S_IFDIR = 0x4000;
        if ((info.Mode & S_IFMT) != S_IFDIR)
            throw new UnauthorizedAccessException($"{path} is not a directory");
    }

    /// <summary>" (name)" from /etc/passwd, or "" if the uid has no entry there.</summary>
    private static string UserName(uint uid)
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/passwd"))
            {
                var fields = line.Split(':');
                if (fields.Length > 2 && fields[2] == uid.ToString(System.Globalization.CultureInfo.InvariantCulture)) return $" ({fields[0]})";
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return "";
    }
}
