using System.CommandLine;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using Spectre.Console;

namespace KernelBridge.Cli.Commands;

/// <summary>kbridge driver load | unload | list.</summary>
internal static class DriverCommand
{
    private const string ServicesKey = @"\Registry\Machine\System\CurrentControlSet\Services\";

    public static Command Create()
    {
        var command = new Command("driver", "Load, unload and list drivers");
        command.Subcommands.Add(CreateLoad());
        command.Subcommands.Add(CreateUnload());
        command.Subcommands.Add(CreateList());
        return command;
    }

    private static Command CreateLoad()
    {
        var path = new Argument<string>("PATH") { Description = "The driver assembly (.dll)" };
        var service = new Option<string?>("--service") { Description = "Service name (default: the driver type's name without 'Driver', as at boot)" };
        var command = new Command("load", "Load a driver assembly (NtLoadDriver; needs the load-driver privilege)");
        command.Arguments.Add(path);
        command.Options.Add(service);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var image = Path.GetFullPath(parse.GetValue(path)!);
            var name = parse.GetValue(service) ?? DefaultServiceName(image);
            using var gate = CommonOptions.Connect(parse);
            using var scope = GateClient.Use(gate);
            var status = Ntdll.NtLoadDriver(ServicesKey + name, image, out var message);
            if (!status.IsSuccess)
            {
                Console.Error.WriteLine($"kbridge: loading {name} from {image} failed: {status} (Win32 {StatusMapping.Name(StatusMapping.RtlNtStatusToDosError(status))})"
                    + (message.Length > 0 ? $": {message}" : status == NtStatus.STATUS_PRIVILEGE_NOT_HELD ? ": loading drivers needs SeLoadDriverPrivilege (run as root)" : ""));
                return 1;
            }
            Console.Out.WriteLine($"loaded \\Driver\\{name} from {image}");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// With no --service: the driver type's name without "Driver" (as a boot load names it), found by
    /// looking into the assembly; failing that, the last part of the file name.
    /// </summary>
    private static string DefaultServiceName(string image)
    {
        var probe = new System.Runtime.Loader.AssemblyLoadContext("kbridge-driver-probe", isCollectible: true);
        try
        {
            var drivers = probe.LoadFromAssemblyPath(image).GetExportedTypes()
                .Where(t => typeof(KernelBridge.Ddk.IDriver).IsAssignableFrom(t) && !t.IsAbstract).ToList();
            if (drivers.Count == 1)
                return drivers[0].Name.EndsWith("Driver", StringComparison.Ordinal) && drivers[0].Name.Length > 6 ? drivers[0].Name[..^6] : drivers[0].Name;
        }
        catch (Exception e) when (e is BadImageFormatException or FileLoadException or FileNotFoundException or System.Reflection.ReflectionTypeLoadException)
        {
            // Not something we can look into: the kernel will say what is wrong with it.
        }
        finally
        {
            probe.Unload();
        }
        var name = Path.GetFileNameWithoutExtension(image);
        return name.Contains('.', StringComparison.Ordinal) ? name[(name.LastIndexOf('.') + 1)..] : name;
    }

    private static Command CreateUnload()
    {
        var name = new Argument<string>("NAME") { Description = "The driver's service name" };
        var command = new Command("unload", "Unload a driver (NtUnloadDriver)");
        command.Arguments.Add(name);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            using var gate = CommonOptions.Connect(parse);
            using var scope = GateClient.Use(gate);
            var status = Ntdll.NtUnloadDriver(ServicesKey + parse.GetValue(name));
            if (!status.IsSuccess)
            {
                Console.Error.WriteLine($"kbridge: unloading {parse.GetValue(name)} failed: {status}");
                return 1;
            }
            Console.Out.WriteLine($"unloaded \\Driver\\{parse.GetValue(name)}");
            return 0;
        }));
        return command;
    }

    private static Command CreateList()
    {
        var json = CommonOptions.Json("a JSON array (one object per driver)");
        var command = new Command("list", "List loaded drivers");
        command.Options.Add(json);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            using var gate = CommonOptions.Connect(parse);
            var drivers = KernelControl.QueryDrivers(gate);
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(drivers.Select(d => new
                {
                    name = d.Name, image = d.ImagePath, builtIn = d.BuiltIn, faulted = d.Faulted, unloadable = d.Unloadable, devices = d.Devices,
                }));
                return 0;
            }
            var table = new Table().AddColumn("driver").AddColumn("devices").AddColumn("state").AddColumn("image");
            foreach (var d in drivers)
                table.AddRow(Markup.Escape(d.Name), d.Devices.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    d.Faulted ? "[red]faulted[/]" : "running", Markup.Escape(d.ImagePath));
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
