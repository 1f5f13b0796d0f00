using System.CommandLine;
using KernelBridge.Cli.Commands;

namespace KernelBridge.Cli;

/// <summary>kbridge: the command line of KernelBridge.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("KernelBridge: the Windows NT user/kernel split, for real, in C#.");
        root.Options.Add(CommonOptions.Instance);
        root.Subcommands.Add(KernelCommand.Create());
        root.Subcommands.Add(DriverCommand.Create());
        root.Subcommands.Add(BugCheckCommand.Create());
        root.Subcommands.Add(IoctlCommand.Create());
        root.Subcommands.Add(CtlCodeCommand.Create());
        root.Subcommands.Add(ObjCommand.Create());
        root.Subcommands.Add(StatsCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(Bench.BenchPeerCommand.Create());
        root.Subcommands.Add(WhoamiCommand.Create());
        root.Subcommands.Add(FuzzCommand.Create());
        root.Subcommands.Add(StressCommand.Create());
        var parse = root.Parse(args);
        // --help wins over errors (System.CommandLine picks its action); any other error is reported our way.
        return parse.Action is System.CommandLine.Invocation.ParseErrorAction ? ParseErrors.Report(parse) : parse.Invoke();
    }
}
