using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace KernelBridge.Tests.Infrastructure;

/// <summary>
/// A process a test started: its output is collected, every wait is bounded, and disposing kills
/// it (by its pid) if it is still running, so a failing test leaves nothing behind.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private readonly BlockingCollection<string> _lines = [];
    private readonly StringBuilder _all = new();
    private readonly CountdownEvent _streamsOpen = new(2);

    private ChildProcess(Process process)
    {
        Process = process;
        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Process Process { get; }
    public int Id => Process.Id;

    public string Output
    {
        get
        {
            lock (_all) return _all.ToString();
        }
    }

    private void Collect(string? line)
    {
        if (line is null)
        {
            // The end of one of the two streams (perhaps after Dispose).
            try
            {
                if (!_streamsOpen.IsSet) _streamsOpen.Signal();
            }
            catch (ObjectDisposedException)
            {
            }
            return;
        }
        lock (_all) _all.AppendLine(line);
        _lines.Add(line);
    }

    /// <summary>Starts `dotnet DLL args...` from the test output directory.</summary>
    public static ChildProcess StartDll(string dll, IReadOnlyDictionary<string, string>? environment, params string[] arguments) =>
        Start(KernelBridge.Client.Gate.KernelLauncher.DotnetHost(), environment, [Path.Combine(AppContext.BaseDirectory, dll), .. arguments]);

    /// <summary>Starts `program args...`.</summary>
    public static ChildProcess Start(string program, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (environment is not null)
            foreach (var (key, value) in environment) start.Environment[key] = value;
        return new ChildProcess(Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}"));
    }

    /// <summary>Waits for a line containing <paramref name="text"/>; false on timeout or exit.</summary>
    public bool WaitForLine(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_lines.TryTake(out var line, TimeSpan.FromMilliseconds(50)))
            {
                if (line.Contains(text, StringComparison.Ordinal)) return true;
            }
            else if (Process.HasExited && _lines.Count == 0) return false;
        }
        return false;
    }

    /// <summary>
    /// Waits for the exit, then (briefly, bounded) for the last of its output: Process.WaitForExit(timeout)
    /// may return before the asynchronous readers have delivered the final lines.
    /// </summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout)) return false;
        _streamsOpen.Wait(TimeSpan.FromSeconds(5));
        return true;
    }

    /// <summary>SIGKILL, by pid.</summary>
    public void Kill()
    {
        try
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
        }
        Process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        Process.Dispose();
        _lines.Dispose();
        _streamsOpen.Dispose();
    }
}
