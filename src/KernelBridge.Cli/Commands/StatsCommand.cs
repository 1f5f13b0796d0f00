using System.CommandLine;
using System.Globalization;
using KernelBridge.Client;
using KernelBridge.Platform;
using Spectre.Console;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// kbridge stats [--json]: what the kernel holds (objects, handles, IRPs, views, sections,
/// connections, its own memory) and each client process's usage against its quotas. Never starts a
/// kernel. This command is a client too: its own row is marked.
/// </summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("stats", "Show what the kernel holds and each process's usage against its quotas");
        command.Options.Add(json);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var instance = InstanceDirectory.Open(CommonOptions.InstanceName(parse), create: false);
            var gate = KernelPresence.ConnectIfRunning(instance, out var staleSocket);
            if (gate is null) return KernelStatusCommand.ReportNotRunning(instance, parse.GetValue(json), staleSocket);
            using (gate)
            {
                var state = KernelControl.QueryState(gate);
                var quotas = KernelControl.QueryQuotas(gate);
                if (parse.GetValue(json)) PrintJson(instance.Instance, state, quotas);
                else PrintText(instance.Instance, state, quotas);
                return 0;
            }
        }));
        return command;
    }

    private static void PrintJson(string instance, KernelState state, KernelQuotas quotas) => CommonOptions.PrintJson(new
    {
        instance,
        running = true,
        pid = state.KernelProcessId,
        uptimeSeconds = Math.Round(state.Uptime.TotalSeconds, 1),
        clients = state.Clients,
        objects = state.Objects,
        handles = state.Handles,
        pendingIrps = state.PendingIrps,
        views = state.Views,
        viewBytes = state.ViewBytes,
        sections = quotas.Sections,
        sectionBytes = state.SectionBytes,
        kernelRssBytes = quotas.KernelResidentBytes,
        gcHeapBytes = quotas.ManagedHeapBytes,
        allocatedBytes = state.AllocatedBytes,
        limits = new
        {
            handles = quotas.MaxHandles,
            pendingIrps = quotas.MaxPendingIrps,
            completionPackets = quotas.MaxCompletionPackets,
            postedMessages = quotas.MaxPostedMessages,
            portMessages = quotas.MaxPortMessages,
            mappedBytes = quotas.MaxMappedBytes,
            connections = quotas.MaxConnections,
            connectionsPerUser = quotas.MaxConnectionsPerUser,
            frameBytes = quotas.MaxFrameLength,
            portMessageBytes = quotas.MaxPortMessageSize,
            sectionBytes = quotas.MaxSectionSize,
        },
        processes = quotas.Processes.Select(p => new
        {
            pid = p.ProcessId,
            uid = p.UserId,
            image = p.ImageName,
            self = p.ProcessId == Environment.ProcessId,
            handles = p.Handles,
            pendingIrps = p.PendingIrps,
            completionPackets = p.CompletionPackets,
            postedMessages = p.PostedMessages,
            portMessages = p.PortMessages,
            views = p.Views,
            viewBytes = p.ViewBytes,
        }),
    });

    private static void PrintText(string instance, KernelState state, KernelQuotas quotas)
    {
        AnsiConsole.MarkupLine($"kernel for instance [bold]{Markup.Escape(instance)}[/]: pid {state.KernelProcessId}, up {KernelStatusCommand.FormatUptime(state.Uptime)}, "
            + $"resident {Bytes(quotas.KernelResidentBytes)}, managed heap {Bytes(quotas.ManagedHeapBytes)}");
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"{state.Clients} of {quotas.MaxConnections} clients (this one included; at most {quotas.MaxConnectionsPerUser} per user), {state.Objects} objects, {state.Handles} handles, "
            + $"{state.PendingIrps} IRPs in flight, {state.Views} views ({Bytes(state.ViewBytes)}), {quotas.Sections} sections ({Bytes(state.SectionBytes)})"));
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"largest frame {Bytes(quotas.MaxFrameLength)}, port message {Bytes(quotas.MaxPortMessageSize)}, section {Bytes(quotas.MaxSectionSize)}"));
        var table = new Table()
            .AddColumn(new TableColumn("pid").RightAligned()).AddColumn("image").AddColumn(new TableColumn("uid").RightAligned())
            .AddColumn(new TableColumn("handles").RightAligned()).AddColumn(new TableColumn("IRPs").RightAligned())
            .AddColumn(new TableColumn("packets").RightAligned()).AddColumn(new TableColumn("posted").RightAligned())
            .AddColumn(new TableColumn("port msgs").RightAligned()).AddColumn(new TableColumn("views").RightAligned())
            .AddColumn(new TableColumn("mapped").RightAligned());
        // The first row is the limits each process's usage is measured against.
        table.AddRow("", "[dim]limit[/]", "", Dim(quotas.MaxHandles), Dim(quotas.MaxPendingIrps), Dim(quotas.MaxCompletionPackets),
            Dim(quotas.MaxPostedMessages), Dim(quotas.MaxPortMessages), "", $"[dim]{Bytes(quotas.MaxMappedBytes)}[/]");
        foreach (var p in quotas.Processes.OrderBy(p => p.ProcessId))
        {
            table.AddRow(
                Count(p.ProcessId), Markup.Escape(p.ImageName + (p.ProcessId == Environment.ProcessId ? " (this)" : "")), Count(p.UserId),
                Used(p.Handles, quotas.MaxHandles), Used(p.PendingIrps, quotas.MaxPendingIrps), Used(p.CompletionPackets, quotas.MaxCompletionPackets),
                Used(p.PostedMessages, quotas.MaxPostedMessages), Used(p.PortMessages, quotas.MaxPortMessages), Count(p.Views),
                p.ViewBytes >= quotas.MaxMappedBytes ? $"[red]{Bytes(p.ViewBytes)}[/]" : Bytes(p.ViewBytes));
        }
        AnsiConsole.Write(table);
    }

    private static string Dim(long limit) => $"[dim]{Count(limit)}[/]";

    /// <summary>A count, red once it reaches its limit.</summary>
    private static string Used(int used, int limit) => used >= limit ? $"[red]{Count(used)}[/]" : Count(used);

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Bytes in binary units: "512 B", "4.0 KiB", "1.5 GiB".</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        var value = (double)bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.#} {units[unit]}");
    }
}
