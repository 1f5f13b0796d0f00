namespace KernelBridge.Cli.Stress;

/// <summary>The lines a stress worker and its runner exchange (worker's stdout, runner's stdin).</summary>
internal static class StressProtocol
{
    public const string Ready = "ready";
    public const string Go = "go";
    public const string Exit = "exit";
    public const string Progress = "progress";
    public const string Operation = "op";
    public const string Error = "error";
    public const string Latency = "latency";
    public const string Done = "done";

    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    public static void Say(string line)
    {
        Console.Out.WriteLine(line);
        Console.Out.Flush();
    }
}
