namespace KernelBridge.Tests.Cli;

/// <summary>What a refusal from kbridge must look like: the exit code, and sentences, not a stack trace.</summary>
internal static class CliAssert
{
    /// <summary>
    /// Exit <paramref name="exitCode"/>; stderr says <paramref name="expected"/>, every line of it
    /// starts "kbridge: ", and none names a .NET type, a parameter or a stack frame.
    /// </summary>
    public static void Refused(CliResult result, int exitCode, string expected)
    {
        Assert.True(result.ExitCode == exitCode, $"expected exit {exitCode}:{Environment.NewLine}{result}");
        Assert.True(result.Stderr.Contains(expected, StringComparison.Ordinal), $"stderr does not say \"{expected}\":{Environment.NewLine}{result}");
        foreach (var line in result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            Assert.True(line.StartsWith("kbridge: ", StringComparison.Ordinal), $"a stderr line that is not a kbridge message: '{line}'{Environment.NewLine}{result}");
            foreach (var leak in new[] { "System.", "(Parameter", "Exception", " at KernelBridge", "expected type" })
                Assert.False(line.Contains(leak, StringComparison.Ordinal), $"'{leak}' in a message for people: '{line}'{Environment.NewLine}{result}");
        }
    }
}
