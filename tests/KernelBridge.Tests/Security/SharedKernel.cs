using System.Net.Sockets;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Security;

/// <summary>
/// A multi-user kernel of the test's own (`kbridge kernel --multi-user --dir DIR`, with the test
/// driver), in a fresh directory under /tmp that every user can pass through. The test process (root)
/// talks to it as user A; <see cref="RunAs"/> runs the test client as another uid with setpriv.
/// Disposing stops it (killed by pid if it will not stop) and removes the directory.
/// </summary>
internal sealed class SharedKernel : IDisposable
{
    private readonly string _parent;
    private readonly ChildProcess _process;

    private SharedKernel(string parent, string directory, ChildProcess process)
    {
        _parent = parent;
        Directory = directory;
        _process = process;
    }

    public string Directory { get; }
    public string SocketPath => Path.Combine(Directory, WireProtocol.SocketFileName);

    public static SharedKernel Start(params string[] options)
    {
        var parent = Path.Combine(Path.GetTempPath(), "kb-mu-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(parent);
        File.SetUnixFileMode(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        var directory = Path.Combine(parent, "instance");
        var process = ChildProcess.Start(KernelLauncher.DotnetHost(), null,
            [Path.Combine(AppContext.BaseDirectory, "kbridge.dll"), "kernel", "--persistent", "--multi-user", "--dir", directory,
             "--driver", KernelProcess.TestDriverPath, .. options]);
        var kernel = new SharedKernel(parent, directory, process);
        if (!kernel.WaitUntilListening(TimeSpan.FromSeconds(30)))
        {
            var output = process.Output;
            kernel.Dispose();
            throw new InvalidOperationException($"the multi-user kernel in {directory} did not start listening; output:{Environment.NewLine}{output}");
        }
        return kernel;
    }

    private bool WaitUntilListening(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.Process.HasExited) return false;
            if (TryConnectSocket() is { } socket)
            {
                socket.Dispose();
                return true;
            }
            Thread.Sleep(20);
        }
        return false;
    }

    private Socket? TryConnectSocket()
    {
        if (!File.Exists(SocketPath)) return null;
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }

    /// <summary>A connection of this test process (its own process in the kernel, with root's token).</summary>
    public GateClient Connect()
    {
        var socket = TryConnectSocket() ?? throw new InvalidOperationException($"nothing listens on {SocketPath}");
        try
        {
            return GateClient.Handshake(socket, "multi-user", WireProtocol.Version);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>`test-client security ARGS` as uid/gid <paramref name="uid"/> (setpriv, no supplementary groups); its one output line.</summary>
    public string RunAs(int uid, params string[] arguments)
    {
        IReadOnlyList<string> prefix =
        [
            Posix.Which("setpriv") ?? "setpriv", $"--reuid={uid}", $"--regid={uid}", "--clear-groups",
            "env", "HOME=/tmp", "XDG_RUNTIME_DIR=", "DOTNET_CLI_HOME=/tmp", "DOTNET_NOLOGO=1",
        ];
        var environment = new Dictionary<string, string?> { [Platform.InstanceDirectory.DirectoryVariable] = Directory };
        var result = Cli.Kbridge.RunDll(Path.Combine(AppContext.BaseDirectory, "KernelBridge.TestClient.dll"), prefix, environment, ["security", .. arguments]);
        Assert.True(result.ExitCode == 0, $"test-client security {string.Join(' ', arguments)} as uid {uid}: {result}");
        return result.Stdout.Trim();
    }

    public void Dispose()
    {
        if (!_process.Process.HasExited)
        {
            try
            {
                using var gate = Connect();
                KernelControl.Shutdown(gate);
            }
            catch (Exception e) when (e is InvalidOperationException or KernelUnavailableException or SocketException)
            {
            }
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(_parent, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// A multi-user fact: it runs clients as other uids with setpriv, so it needs root, setpriv, and a
/// build other users can read; skipped (with the reason) otherwise. CI and this machine run as root.
/// </summary>
public sealed class MultiUserFactAttribute : FactAttribute
{
    public MultiUserFactAttribute()
    {
        if (!Posix.IsRoot) Skip = "needs root to run clients as other uids (setpriv)";
        else if (Unprivileged.WhyNot() is { } reason) Skip = $"cannot run clients as another uid: {reason}";
        else if ((File.GetUnixFileMode(Path.Combine(AppContext.BaseDirectory, "KernelBridge.TestClient.dll")) & UnixFileMode.OtherRead) == 0)
            Skip = "KernelBridge.TestClient.dll is not readable by other users";
    }
}
