using System.Diagnostics;
using System.Globalization;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;

namespace KernelBridge.Tests.Gate.Support;

/// <summary>Small Linux facts the gate tests need: who we are, whether a pid still runs.</summary>
internal static class Posix
{
    /// <summary>The uid/gid "nobody" has on Debian-like systems: an unprivileged identity for root-only tests.</summary>
    public const int Nobody = 65534;

    public static bool IsRoot => Libc.EffectiveUserId() == 0;

    /// <summary>True while <paramref name="pid"/> runs (a zombie does not count).</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0) return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            if (close < 0 || close + 2 >= stat.Length) return false;
            return stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }

    /// <summary>The command line of <paramref name="pid"/> (NULs as spaces), or "" if it has gone.</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>Finds a program on PATH (or an absolute path that exists), else null.</summary>
    public static string? Which(string program)
    {
        if (Path.IsPathRooted(program)) return File.Exists(program) ? program : null;
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Runs a short command (chown and the like) with a bounded wait; returns its exit code and output.</summary>
    public static (int ExitCode, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill();
            process.WaitForExit(TimeSpan.FromSeconds(10));
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within 30 s");
        }
        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10));
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>
    /// Stops a kernel this test caused to start (auto-started, so no ChildProcess owns it): asks it
    /// to shut down, waits (bounded), then SIGKILLs it by pid, but only if that pid is still a
    /// kbridge kernel of <paramref name="instance"/> (never someone else's process).
    /// </summary>
    public static void StopKernel(string instance, int pid)
    {
        try
        {
            var directory = InstanceDirectory.Open(instance, create: false);
            if (pid <= 0 && File.Exists(directory.PidPath)
                && int.TryParse(File.ReadAllText(directory.PidPath).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var written))
                pid = written;
            if (File.Exists(directory.SocketPath))
            {
                using var gate = GateClient.Connect(instance, autoStart: false);
                if (pid == 0) pid = gate.KernelProcessId;
                KernelControl.Shutdown(gate);
            }
        }
        catch (KernelUnavailableException)
        {
        }
        catch (ProtocolMismatchException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        catch (IOException)
        {
        }
        if (pid <= 0) return;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (IsAlive(pid) && DateTime.UtcNow < deadline) Thread.Sleep(20);
        if (IsAlive(pid) && CommandLine(pid).Contains(instance, StringComparison.Ordinal))
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(TimeSpan.FromSeconds(10));
            }
            catch (ArgumentException)
            {
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    /// <summary>Removes an instance directory of ours (bounded, best effort).</summary>
    public static void DeleteInstanceDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>A fact that only means something as root (chown, NtLoadDriver); skipped with the reason otherwise.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute(string why)
    {
        if (!Posix.IsRoot) Skip = $"needs root ({why}); this run is uid {Libc.EffectiveUserId()}";
    }
}
