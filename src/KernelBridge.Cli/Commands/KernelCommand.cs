using System.CommandLine;
using System.Globalization;
using KernelBridge.Client;
using KernelBridge.Drivers.Echo;
using KernelBridge.Drivers.EventSample;
using KernelBridge.Drivers.Null;
using KernelBridge.Kernel;
using KernelBridge.Kernel.Ex;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Spectre.Console;

namespace KernelBridge.Cli.Commands;

/// <summary>kbridge kernel [--persistent] | kernel status | kernel stop.</summary>
internal static class KernelCommand
{
    /// <summary>The drivers every kernel boots with.</summary>
    public static IReadOnlyList<BuiltInDriver> BuiltInDrivers { get; } =
    [
        new("Null", NullDriver.DriverEntry),
        new("Echo", EchoDriver.DriverEntry),
        new("Event_Sample", EventSampleDriver.DriverEntry),
    ];

    public static Command Create()
    {
        var persistent = new Option<bool>("--persistent") { Description = "Keep running after the last client leaves" };
        var idle = new Option<double>("--idle-timeout")
        {
            Description = "Seconds to linger after the last client (default 5, or $KBRIDGE_IDLE_TIMEOUT)",
            DefaultValueFactory = _ => double.TryParse(Environment.GetEnvironmentVariable("KBRIDGE_IDLE_TIMEOUT"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : 5,
        };
        var drivers = new Option<string[]>("--driver") { Description = "Load a driver assembly at boot (repeatable)", AllowMultipleArgumentsPerToken = false };
        var trace = new Option<bool>("--trace") { Description = "Log every system call and its result" };
        var halt = new Option<bool>("--halt-on-fault") { Description = "A driver fault halts the kernel (a real bug check), instead of isolating the driver" };
        var detached = new Option<bool>("--detached") { Description = "Run in a session of its own (how clients start the kernel)", Hidden = true };

        var command = new Command("kernel", "Run the kernel host in the foreground (Ctrl-C stops it)");
        command.Options.Add(persistent);
        command.Options.Add(idle);
        command.Options.Add(drivers);
        command.Options.Add(trace);
        command.Options.Add(halt);
        command.Options.Add(detached);
        var limits = new GateLimitOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(detached)) Libc.StartSession();
            using var loggers = LoggerFactory.Create(builder => builder
                .SetMinimumLevel(LogLevel.Information)
                .AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss.fff ";
                    o.ColorBehavior = LoggerColorBehavior.Disabled;
                }));
            var options = new KernelOptions
            {
                Instance = parse.GetValue(CommonOptions.Instance),
                Persistent = parse.GetValue(persistent),
                IdleTimeout = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(idle))),
                BuiltInDrivers = BuiltInDrivers,
                BootDrivers = parse.GetValue(drivers) ?? [],
                Trace = parse.GetValue(trace),
                FaultPolicy = parse.GetValue(halt) ? FaultPolicy.Halt : FaultPolicy.Isolate,
            };
            options = limits.ApplyTo(parse, options);
            try
            {
                var exit = await KernelHost.RunAsync(options, loggers, cancellationToken).ConfigureAwait(false);
                if (exit == KernelExit.AlreadyRunning)
                    await Console.Error.WriteLineAsync($"kbridge: a kernel already serves instance '{InstanceDirectory.ResolveName(options.Instance)}'").ConfigureAwait(false);
                return (int)exit;
            }
            catch (UnauthorizedAccessException e)
            {
                await Console.Error.WriteLineAsync($"kbridge: {e.Message}").ConfigureAwait(false);
                return 1;
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync($"kbridge: {e.Message}").ConfigureAwait(false);
                return 2;
            }
        });
        command.Subcommands.Add(CreateStatus());
        command.Subcommands.Add(CreateStop());
        return command;
    }

    private static Command CreateStatus()
    {
        var json = CommonOptions.Json();
        var command = new Command("status", "Show whether a kernel runs for the instance, and what it holds");
        command.Options.Add(json);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var instance = InstanceDirectory.Open(parse.GetValue(CommonOptions.Instance), create: false);
            if (!File.Exists(instance.SocketPath))
            {
                if (parse.GetValue(json)) CommonOptions.PrintJson(new { instance = instance.Instance, running = false });
                else Console.Out.WriteLine($"no kernel is running for instance '{instance.Instance}'");
                return 3;
            }
            using var gate = CommonOptions.Connect(parse, autoStart: false);
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
            AnsiConsole.MarkupLine($"kernel for instance [bold]{Markup.Escape(instance.Instance)}[/]: pid {state.KernelProcessId}, up {state.Uptime:hh\\:mm\\:ss}, protocol v{state.ProtocolVersion}{(state.Persistent ? ", persistent" : "")}");
            AnsiConsole.MarkupLine($"{state.Clients} clients (this one included), {state.Objects} objects, {state.Handles} handles, {state.Drivers} drivers, {state.Devices} devices, {state.PendingIrps} IRPs in flight");
            var table = new Table().AddColumn("type").AddColumn(new TableColumn("objects").RightAligned()).AddColumn(new TableColumn("handles").RightAligned());
            foreach (var type in state.Types) table.AddRow(type.Name, type.Objects.ToString(CultureInfo.InvariantCulture), type.Handles.ToString(CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }

    private static Command CreateStop()
    {
        var command = new Command("stop", "Stop the instance's kernel (its clients get STATUS_PORT_DISCONNECTED)");
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var instance = InstanceDirectory.Open(parse.GetValue(CommonOptions.Instance), create: false);
            if (!File.Exists(instance.SocketPath))
            {
                Console.Out.WriteLine($"no kernel is running for instance '{instance.Instance}'");
                return 0;
            }
            using var gate = CommonOptions.Connect(parse, autoStart: false);
            var pid = gate.KernelProcessId;
            KernelControl.Shutdown(gate);
            // Wait (bounded) until the kernel has let go of its instance.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (File.Exists(instance.SocketPath) && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Console.Out.WriteLine(File.Exists(instance.SocketPath)
                ? $"asked the kernel (pid {pid}) to stop; it has not finished yet"
                : $"stopped the kernel of instance '{instance.Instance}' (pid {pid})");
            return 0;
        }));
        return command;
    }
}
