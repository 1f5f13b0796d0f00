using System.Diagnostics;

namespace KernelBridge.Tests.Cli;

/// <summary>Runs kbridge as a process like <see cref="Kbridge.Run"/>, with a timeout of the caller's choosing (killed by pid past it).</summary>
internal static class BoundedRun
{
    public static CliResult Kbridge(TimeSpan timeout, params string[] arguments)
    {
        using var process = Cli.Kbridge.Start(null, null, arguments);
        process.StandardInput.Close();
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
            Assert.Fail($"kbridge {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds} s");
        }
        Task.WaitAll([stdout, stderr], TimeSpan.FromSeconds(10));
        return new CliResult(process.ExitCode, stdout.IsCompletedSuccessfully ? stdout.Result : "", stderr.IsCompletedSuccessfully ? stderr.Result : "");
    }
}
