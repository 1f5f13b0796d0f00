using System.Diagnostics;
using System.Text.Json;
using KernelBridge.Client.Gate;

namespace KernelBridge.Tests.Cli;

/// <summary>What one kbridge run printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Stdout as exactly one JSON value on one line (asserts that shape).</summary>
    public JsonElement Json()
    {
        var lines = Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 1, $"expected exactly one line of JSON on stdout, got {lines.Length}:{Environment.NewLine}{this}");
        using var document = JsonDocument.Parse(lines[0]);
        return document.RootElement.Clone();
    }

    public override string ToString() => $"exit {ExitCode}{Environment.NewLine}--- stdout ---{Environment.NewLine}{Stdout}--- stderr ---{Environment.NewLine}{Stderr}";
}

/// <summary>
/// Runs kbridge.dll (from the test output directory) as its own process: stdout and stderr apart,
/// every wait bounded, killed by pid if it overruns. A prefix (setpriv ... env ...) runs it as
/// someone else.
/// </summary>
internal static class Kbridge
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string Dll => Path.Combine(AppContext.BaseDirectory, "kbridge.dll");

    public static CliResult Run(params string[] arguments) => RunWith(null, null, arguments);

    public static CliResult RunWith(IReadOnlyList<string>? prefix, IReadOnlyDictionary<string, string?>? environment, params string[] arguments) =>
        RunDll(Dll, prefix, environment, arguments);

    /// <summary>As <see cref="Run"/>, for a command that may take longer than <see cref="Timeout"/> (a benchmark).</summary>
    public static CliResult RunWithin(TimeSpan timeout, params string[] arguments) => RunDll(Dll, null, null, arguments, timeout);

    /// <summary>Runs `dotnet <paramref name="dll"/> arguments...` (any .NET program, not only kbridge) the same way.</summary>
    public static CliResult RunDll(string dll, IReadOnlyList<string>? prefix, IReadOnlyDictionary<string, string?>? environment, params string[] arguments) =>
        RunDll(dll, prefix, environment, arguments, Timeout);

    private static CliResult RunDll(string dll, IReadOnlyList<string>? prefix, IReadOnlyDictionary<string, string?>? environment, string[] arguments, TimeSpan timeout)
    {
        using var process = StartDll(dll, prefix, environment, arguments);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
            process.WaitForExit(TimeSpan.FromSeconds(10));
            Assert.Fail($"{Path.GetFileNameWithoutExtension(dll)} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds} s");
        }
        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10));
        return new CliResult(process.ExitCode, stdout.IsCompletedSuccessfully ? stdout.Result : "", stderr.IsCompletedSuccessfully ? stderr.Result : "");
    }

    /// <summary>Starts kbridge (through <paramref name="prefix"/> if given) with stdout/stderr redirected.</summary>
    public static Process Start(IReadOnlyList<string>? prefix, IReadOnlyDictionary<string, string?>? environment, params string[] arguments) =>
        StartDll(Dll, prefix, environment, arguments);

    private static Process StartDll(string dll, IReadOnlyList<string>? prefix, IReadOnlyDictionary<string, string?>? environment, string[] arguments)
    {
        var program = prefix is { Count: > 0 } ? prefix[0] : KernelLauncher.DotnetHost();
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        if (prefix is { Count: > 0 })
        {
            foreach (var part in prefix.Skip(1)) start.ArgumentList.Add(part);
            start.ArgumentList.Add(KernelLauncher.DotnetHost());
        }
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        if (environment is not null)
            foreach (var (key, value) in environment)
            {
                if (value is null) start.Environment.Remove(key);
                else start.Environment[key] = value;
            }
        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {dll}");
    }
}
