using System.CommandLine;
using System.Globalization;
using KernelBridge.Client;
using KernelBridge.Platform;
using Spectre.Console;

namespace KernelBridge.Cli.Commands;

/// <summary>kbridge kernel status [--json]: whether a kernel serves the instance, and what it holds. Never starts one.</summary>
internal static class KernelStatusCommand
{
    /// <summary>Exit code when no kernel runs (no socket, or one a dead kernel left).</summary>
    public const int NotRunning = 3;

    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("status", "Show whether a kernel runs for the instance, and what it holds");
        command.Options.Add(json);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var instance = InstanceDirectory.Open(CommonOptions.InstanceName(parse), create: false);
            var gate = KernelPresence.ConnectIfRunning(instance, out var staleSocket);
            if (gate is null) return ReportNotRunning(instance, parse.GetValue(json), staleSocket);
            using (gate)
            {
                var state = KernelControl.QueryState(gate);
                if (parse.GetValue(json))
                {
                    CommonOptions.PrintJson(new
                    {
                        instance = instance.Instance, running = true, pid = state.KernelProcessId, protocol = state.ProtocolVersion,
                        uptimeSeconds = Math.Round(state.Uptime.TotalSeconds, 1), clients = state.Clients, objects = state.Objects,
                        handles = state.Handles, drivers = state.Drivers, devices = state.Devices, pendingIrps = state.PendingIrps,
                        persistent = state.Persistent,
                        types = state.Types.Select(t => new { name = t.Name, objects = t.Objects, handles = t.Handles }),
                    });
                    return 0;
                }
                AnsiConsole.MarkupLine($"kernel for instance [bold]{Markup.Escape(instance.Instance)}[/]: pid {state.KernelProcessId}, up {FormatUptime(state.Uptime)}, protocol v{state.ProtocolVersion}{(state.Persistent ? ", persistent" : "")}");
                AnsiConsole.MarkupLine($"{state.Clients} clients (this one included), {state.Objects} objects, {state.Handles} handles, {state.Drivers} drivers, {state.Devices} devices, {state.PendingIrps} IRPs in flight");
                var table = new Table().AddColumn("type").AddColumn(new TableColumn("objects").RightAligned()).AddColumn(new TableColumn("handles").RightAligned());
                foreach (var type in state.Types) table.AddRow(type.Name, type.Objects.ToString(CultureInfo.InvariantCulture), type.Handles.ToString(CultureInfo.InvariantCulture));
                AnsiConsole.Write(table);
                return 0;
            }
        }));
        return command;
    }

    /// <summary>"02:03:04", or "1d 02:03:04" once the kernel has been up a day.</summary>
    public static string FormatUptime(TimeSpan uptime) =>
        uptime.Days > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{uptime.Days}d {uptime:hh\\:mm\\:ss}")
            : uptime.ToString("hh\\:mm\\:ss", CultureInfo.InvariantCulture);

    /// <summary>What status and stats print, and return, when no kernel runs.</summary>
    public static int ReportNotRunning(InstanceDirectory instance, bool json, bool staleSocket)
    {
        if (json) CommonOptions.PrintJson(new { instance = instance.Instance, running = false, staleSocket });
        else Console.Out.WriteLine(NotRunningMessage(instance, staleSocket));
        return NotRunning;
    }

    /// <summary>What status and stop print when no kernel runs.</summary>
    public static string NotRunningMessage(InstanceDirectory instance, bool staleSocket) =>
        $"no kernel is running for instance '{instance.Instance}'"
        + (staleSocket ? $" (a kernel that died left {instance.SocketPath} behind; the next kernel replaces it)" : "");
}
