using KernelBridge.Client.Gate;

namespace KernelBridge.Tests.Gate.Support;

/// <summary>
/// Running kbridge as an unprivileged user (uid/gid 65534) from a root test run, with
/// setpriv(1): `setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp
/// XDG_RUNTIME_DIR= DOTNET_CLI_HOME=/tmp dotnet kbridge.dll ...`. That user's instances live in
/// /tmp/kernelbridge-65534.
/// </summary>
internal static class Unprivileged
{
    public static string BaseDirectory => $"/tmp/kernelbridge-{Posix.Nobody}";

    public static IReadOnlyList<string> Prefix =>
    [
        Posix.Which("setpriv") ?? "setpriv", $"--reuid={Posix.Nobody}", $"--regid={Posix.Nobody}", "--clear-groups",
        "env", "HOME=/tmp", "XDG_RUNTIME_DIR=", "DOTNET_CLI_HOME=/tmp", "DOTNET_NOLOGO=1",
    ];

    /// <summary>Null if kbridge can run as 65534 here; else why not.</summary>
    public static string? WhyNot()
    {
        if (Posix.Which("setpriv") is null) return "setpriv(1) is not installed";
        var dotnet = KernelLauncher.DotnetHost();
        var dotnetPath = Path.IsPathRooted(dotnet) ? dotnet : Posix.Which(dotnet);
        if (dotnetPath is null) return $"cannot find the dotnet host ({dotnet})";
        var real = new FileInfo(dotnetPath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? dotnetPath;
        foreach (var path in new[] { real, Path.Combine(AppContext.BaseDirectory, "kbridge.dll"), Path.Combine(AppContext.BaseDirectory, "KernelBridge.TestDriver.dll") })
        {
            if (WhyUnreadable(path) is { } reason) return reason;
        }
        return null;
    }

    /// <summary>Whether "others" can reach and read <paramref name="file"/>: o+x on every directory above it, o+r on it.</summary>
    private static string? WhyUnreadable(string file)
    {
        if ((File.GetUnixFileMode(file) & UnixFileMode.OtherRead) == 0) return $"{file} is not readable by other users";
        for (var directory = Path.GetDirectoryName(file); !string.IsNullOrEmpty(directory); directory = Path.GetDirectoryName(directory))
        {
            if ((File.GetUnixFileMode(directory) & UnixFileMode.OtherExecute) == 0)
                return $"{directory} cannot be entered by other users, so uid {Posix.Nobody} cannot run the test build";
        }
        return null;
    }
}

/// <summary>
/// A fact that checks what an unprivileged user gets. Not root: runs as is. Root: runs only if
/// kbridge can be run as uid 65534 (setpriv installed, the build and dotnet readable by others).
/// </summary>
public sealed class UnprivilegedFactAttribute : FactAttribute
{
    public UnprivilegedFactAttribute()
    {
        if (Posix.IsRoot && Unprivileged.WhyNot() is { } reason) Skip = $"running as root, and cannot run kbridge unprivileged: {reason}";
    }
}
