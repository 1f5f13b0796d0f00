using System.Diagnostics;

namespace KernelBridge.Cli.Bench;

/// <summary>
/// A second process for the measurements that need two: `kbridge bench-peer MODE ...` started from
/// this very kbridge, talking over its stdin and stdout one line at a time. It says "ready" when set
/// up; disposing kills it by its pid if it is still running, so nothing outlives the run.
/// </summary>
internal sealed class BenchPeer : IDisposable
{
    public const string Ready = "ready";

    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly string _mode;

    private BenchPeer(Process process, string mode)
    {
        _process = process;
        _mode = mode;
    }

    public int Id => _process.Id;

    /// <summary>Starts the peer on <paramref name="instance"/> and waits (bounded) for its "ready".</summary>
    public static BenchPeer Start(string instance, string mode, IReadOnlyList<string> arguments)
    {
        var peer = Launch(instance, mode, arguments);
        try
        {
            peer.Expect(Ready, StartTimeout);
            return peer;
        }
        catch
        {
            peer.Dispose();
            throw;
        }
    }

    /// <summary>Starts the peer without waiting for it (to start many at once; then <see cref="Expect"/> each).</summary>
    public static BenchPeer Launch(string instance, string mode, IReadOnlyList<string> arguments)
    {
        var (program, prefix) = SelfLaunch.Resolve() ?? throw new BenchFailedException("cannot tell which program this is, to start a peer");
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
        };
        foreach (var part in prefix) start.ArgumentList.Add(part);
        foreach (var part in new[] { BenchPeerCommand.Name, mode }) start.ArgumentList.Add(part);
        foreach (var part in arguments) start.ArgumentList.Add(part);
        start.ArgumentList.Add("--instance");
        start.ArgumentList.Add(instance);
        var process = Process.Start(start) ?? throw new BenchFailedException($"could not start {program} for the {mode} peer");
        return new BenchPeer(process, mode);
    }

    /// <summary>Sends one line to the peer.</summary>
    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    /// <summary>Reads the peer's next line (bounded); it must start with <paramref name="prefix"/>. Returns the rest.</summary>
    public string Expect(string prefix, TimeSpan timeout)
    {
        var read = _process.StandardOutput.ReadLineAsync();
        if (!read.Wait(timeout))
            throw new BenchFailedException($"the {_mode} peer (pid {Id}) did not say '{prefix}' within {timeout.TotalSeconds:0} s");
        var line = read.Result;
        if (line is null || !line.StartsWith(prefix, StringComparison.Ordinal))
            throw new BenchFailedException($"the {_mode} peer (pid {Id}) said '{line ?? "(nothing: it exited)"}' instead of '{prefix}'");
        return line[prefix.Length..].Trim();
    }

    /// <summary>Kills the peer by its pid if it still runs, and waits (bounded) until it is gone.</summary>
    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: false);
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
