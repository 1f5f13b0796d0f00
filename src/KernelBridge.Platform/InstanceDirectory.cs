using KernelBridge.Abi.Protocol;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Platform;

/// <summary>
/// Where an instance lives: <c>$XDG_RUNTIME_DIR/kernelbridge/&lt;instance&gt;</c>, else
/// <c>/tmp/kernelbridge-&lt;uid&gt;/&lt;instance&gt;</c>. Mode 0700; a directory another user owns
/// is refused, so nobody can plant a socket for us to talk to.
/// </summary>
public sealed partial class InstanceDirectory
{
    public const string DefaultInstance = "default";
    public const string InstanceVariable = "KERNELBRIDGE_INSTANCE";
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
        var runtime = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR");
        if (!string.IsNullOrEmpty(runtime) && Directory.Exists(runtime))
            return System.IO.Path.Combine(runtime, "kernelbridge");
        return $"/tmp/kernelbridge-{Libc.EffectiveUserId()}";
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
            EnsurePrivate(root);
            EnsurePrivate(path);
        }
        else
        {
            CheckOwner(root);
            CheckOwner(path);
        }
        return new InstanceDirectory(name, path);
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
                $"{path} belongs to uid {info.Uid}, not to you (uid {me}); refusing to use another user's KernelBridge instance directory");
        const uint S_IFMT = 0xF000, S_IFDIR = 0x4000;
        if ((info.Mode & S_IFMT) != S_IFDIR)
            throw new UnauthorizedAccessException($"{path} is not a directory");
    }
}
