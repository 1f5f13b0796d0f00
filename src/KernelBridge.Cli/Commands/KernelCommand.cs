using System.CommandLine;
using KernelBridge.Drivers.Echo;
using KernelBridge.Drivers.EventSample;
using KernelBridge.Drivers.Telemetry;
using KernelBridge.Drivers.Null;
using KernelBridge.Drivers.RamDisk;
using KernelBridge.Drivers.Scanner;
using KernelBridge.Drivers.RamFs;
using KernelBridge.Kernel;
using KernelBridge.Kernel.Ex;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

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
        new(TelemetryInterface.ServiceName, TelemetryDriver.DriverEntry),
        new(RamDiskInterface.ServiceName, RamDiskDriver.DriverEntry),
        new(RamFsInterface.ServiceName, RamFsDriver.DriverEntry),
        new(ScannerInterface.ServiceName, ScannerDriver.DriverEntry),
        new(Drivers.PortSample.PortSampleInterface.ServiceName, Drivers.PortSample.PortSampleDriver.DriverEntry),
    ];

    public static Command Create()
    {
        var persistent = new Option<bool>("--persistent") { Description = "Keep running after the last client leaves" };
        var idle = IdleTimeoutSetting.CreateOption();
        var drivers = new Option<string[]>("--driver") { Description = "Load a driver assembly at boot (repeatable)", AllowMultipleArgumentsPerToken = false };
        var trace = new Option<bool>("--trace") { Description = "Log every system call and its result" };
        var halt = new Option<bool>("--halt-on-fault") { Description = "A driver fault halts the kernel (a real bug check), instead of isolating the driver" };
        var ramDiskSize = new Option<long?>("--ramdisk-size")
        {
            Description = $"The size of \\Device\\RamDisk, in whole {RamDiskInterface.SectorSize}-byte sectors (suffix K, M or G; default {RamDiskInterface.DefaultSize >> 20}M)",
            HelpName = "BYTES",
            CustomParser = result =>
            {
                var size = RamDiskSize.Parse(result.Tokens.Count > 0 ? result.Tokens[0].Value : "", out var problem);
                if (problem is not null) result.AddError($"--ramdisk-size: {problem}");
                return size;
            },
        };
        var multiUser = new Option<bool>("--multi-user") { Description = "Serve other Unix users too (each process still gets its own token; see docs/access-control.md)" };
        var group = new Option<string?>("--group") { Description = "With --multi-user: only this group's members may connect", HelpName = "NAME" };
        var directory = new Option<string?>("--dir")
        {
            Description = $"The instance directory itself (default ${InstanceDirectory.DirectoryVariable}; with --multi-user else /tmp/kernelbridge-UID-shared/INSTANCE)",
            HelpName = "PATH",
        };
        var verifier = new Option<string[]>("--verifier")
        {
            Description = "Drivers the driver verifier checks: all, none (the default) or service names (repeatable); see docs/driver-verifier.md",
            AllowMultipleArgumentsPerToken = true,
            HelpName = "all|none|NAME",
        };
        var unverified = new Option<string[]>("--verifier-exclude") { Description = "A service name the verifier leaves out, even under 'all' (repeatable)" };
        var verifierTimeout = new Option<int?>("--verifier-cancel-timeout")
        {
            Description = "Milliseconds a verified driver has to complete a cancelled IRP (default 3000)",
            HelpName = "MS",
        };
        var detached = new Option<bool>("--detached") { Description = "Run in a session of its own (how clients start the kernel)", Hidden = true };

        var command = new Command("kernel", "Run the kernel host in the foreground (Ctrl-C stops it)");
        command.Options.Add(persistent);
        command.Options.Add(idle);
        command.Options.Add(drivers);
        command.Options.Add(trace);
        command.Options.Add(halt);
        command.Options.Add(ramDiskSize);
        command.Options.Add(verifier);
        command.Options.Add(unverified);
        command.Options.Add(verifierTimeout);
        command.Options.Add(detached);
        command.Options.Add(multiUser);
        command.Options.Add(group);
        command.Options.Add(directory);
        var limits = new GateLimitOptions(command);
        var quotas = new QuotaOptions(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Refused before anything starts, naming the option or the variable the value came from.
            if (!IdleTimeoutSetting.TryResolve(parse.GetValue(idle), out var idleTimeout, out var idleProblem))
            {
                await Console.Error.WriteLineAsync($"kbridge: {idleProblem}").ConfigureAwait(false);
                return ParseErrors.ExitCode;
            }
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
                Persistent = parse.GetValue(persistent),
                IdleTimeout = idleTimeout,
                BuiltInDrivers = parse.GetValue(ramDiskSize) is { } size
                    ? [.. BuiltInDrivers.Where(d => d.ServiceName != RamDiskInterface.ServiceName), new(RamDiskInterface.ServiceName, RamDiskDriver.WithSize(size))]
                    : BuiltInDrivers,
                BootDrivers = parse.GetValue(drivers) ?? [],
                Trace = parse.GetValue(trace),
                FaultPolicy = parse.GetValue(halt) ? FaultPolicy.Halt : FaultPolicy.Isolate,
                VerifiedDrivers = parse.GetValue(verifier) ?? [],
                UnverifiedDrivers = parse.GetValue(unverified) ?? [],
            };
            if (parse.GetValue(verifierTimeout) is { } timeout)
            {
                if (timeout <= 0)
                {
                    await Console.Error.WriteLineAsync("kbridge: --verifier-cancel-timeout: at least 1 millisecond").ConfigureAwait(false);
                    return ParseErrors.ExitCode;
                }
                options = options with { VerifierCancelTimeout = TimeSpan.FromMilliseconds(timeout) };
            }
            options = limits.ApplyTo(parse, options);
            options = quotas.ApplyTo(parse, options);
            try
            {
                // Here, inside the try: a bad $KERNELBRIDGE_INSTANCE is reported as a bad --instance is.
                options = options with { Instance = CommonOptions.InstanceName(parse) };
                options = MultiUserSetting.Apply(parse.GetValue(multiUser), parse.GetValue(group), parse.GetValue(directory), options);
                // A persistent kernel asked for by hand takes the place of one that would go when idle (see KernelTakeover).
                var exit = options.Persistent && !parse.GetValue(detached)
                    ? await KernelTakeover.RunAsync(options, loggers, cancellationToken).ConfigureAwait(false)
                    : await KernelHost.RunAsync(options, loggers, cancellationToken).ConfigureAwait(false);
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
                await Console.Error.WriteLineAsync($"kbridge: {CommonOptions.Sentence(e)}").ConfigureAwait(false);
                return 2;
            }
        });
        command.Subcommands.Add(KernelStatusCommand.Create());
        command.Subcommands.Add(KernelStopCommand.Create());
        return command;
    }
}
