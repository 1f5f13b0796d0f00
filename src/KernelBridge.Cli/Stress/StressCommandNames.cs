namespace KernelBridge.Cli.Stress;

/// <summary>The stress command's names, shared by the runner that starts workers and the parser that reads their arguments.</summary>
internal static class StressCommandNames
{
    public const string Command = "stress";
    public const string Worker = "worker";
}
