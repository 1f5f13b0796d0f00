using System.Diagnostics;
using System.Net.Sockets;
using KernelBridge.Platform;

namespace KernelBridge.Client.Gate;

/// <summary>
/// Starts a kernel when none runs, as the first Wine process starts wineserver. Clients racing to
/// start one serialize on start.lock; the kernel's own lock guarantees a single kernel anyway.
/// </summary>
internal static class KernelLauncher
{
    /// <summary>Path of kbridge (an executable, or kbridge.dll run by dotnet).</summary>
    public const string PathVariable = "KBRIDGE_PATH";

    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Connects, starting a kernel first if nobody listens. Throws <see cref="KernelUnavailableException"/>.</summary>
    public static Socket ConnectOrStart(InstanceDirectory instance, bool autoStart)
    {
        if (TryConnect(instance.SocketPath) is { } socket) return socket;
        // Another user's (multi-user) kernel: nothing to start in a directory that is not ours.
        if (instance.Shared)
            throw new KernelUnavailableException($"no kernel is running in {instance.Path} (another user's instance directory; nothing listens on {instance.SocketPath})");
        if (!autoStart)
            throw new KernelUnavailableException($"no kernel is running for instance '{instance.Instance}' (nothing listens on {instance.SocketPath}); start one with `kbridge kernel`");

        using var startLock = FileLock.Acquire(instance.StartLockPath, StartTimeout)
            ?? throw new KernelUnavailableException($"timed out waiting for another process to start the kernel of instance '{instance.Instance}'");
        if (TryConnect(instance.SocketPath) is { } raced) return raced;

        using var kernel = Start(instance);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < StartTimeout)
        {
            if (TryConnect(instance.SocketPath) is { } connected) return connected;
            if (kernel.HasExited && kernel.ExitCode != 3)
                throw new KernelUnavailableException($"the kernel exited with code {kernel.ExitCode} while starting; its log ({instance.LogPath}) ends:{Environment.NewLine}{Tail(instance.LogPath)}");
            Thread.Sleep(20);
        }
        throw new KernelUnavailableException($"the kernel did not open {instance.SocketPath} within {StartTimeout.TotalSeconds}s; see {instance.LogPath}");
    }

    private static Socket? TryConnect(string socketPath)
    {
        if (!File.Exists(socketPath)) return null;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(socketPath));
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>Starts `kbridge kernel --detached` with its output going to the instance's log.</summary>
    private static Process Start(InstanceDirectory instance)
    {
        var (program, prefix) = ResolveKbridge();
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        // The shell only redirects and execs: the kernel must not hold our stdout (a test runner waits on it).
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("exec \"$@\" >>\"$KBRIDGE_LOG\" 2>&1 </dev/null");
        start.ArgumentList.Add("kbridge-kernel");
        start.ArgumentList.Add(program);
        foreach (var argument in prefix) start.ArgumentList.Add(argument);
        foreach (var argument in new[] { "kernel", "--instance", instance.Instance, "--detached" }) start.ArgumentList.Add(argument);
        start.Environment["KBRIDGE_LOG"] = instance.LogPath;
        return Process.Start(start) ?? throw new KernelUnavailableException("could not start /bin/sh to launch the kernel");
    }

    /// <summary>KBRIDGE_PATH, else kbridge(.dll) beside this application, else kbridge on PATH.</summary>
    internal static (string Program, string[] Prefix) ResolveKbridge()
    {
        var configured = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrEmpty(configured)) return Command(configured);
        var beside = Path.Combine(AppContext.BaseDirectory, "kbridge.dll");
        if (File.Exists(beside)) return Command(beside);
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, "kbridge");
            if (File.Exists(candidate)) return (candidate, []);
        }
        throw new KernelUnavailableException($"cannot find kbridge to start a kernel: set {PathVariable}, or put kbridge on PATH");
    }

    private static (string, string[]) Command(string path) =>
        path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? (DotnetHost(), [path]) : (path, []);

    internal static string DotnetHost()
    {
        var current = Environment.ProcessPath;
        if (current is not null && Path.GetFileNameWithoutExtension(current) == "dotnet") return current;
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host)) return host;
        var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet"))) return Path.Combine(root, "dotnet");
        return "dotnet";
    }

    private static string Tail(string path)
    {
        try
        {
            var lines = File.ReadAllLines(path);
            return string.Join(Environment.NewLine, lines.Skip(Math.Max(0, lines.Length - 15)));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }
}
