using System.CommandLine;
using KernelBridge.Client;
using Spectre.Console;

namespace KernelBridge.Cli.Commands;

/// <summary>kbridge obj [DIR] [--sd] [--json]: list an object directory; with --sd each object's security descriptor as SDDL.</summary>
internal static class ObjCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = @"The directory (default \)", DefaultValueFactory = _ => @"\" };
        var json = CommonOptions.Json();
        var sd = new Option<bool>("--sd") { Description = "Show each object's security descriptor (owner, group, DACL) as SDDL" };
        var command = new Command("obj", "List the object namespace (NtQueryDirectoryObject)");
        command.Arguments.Add(directory);
        command.Options.Add(json);
        command.Options.Add(sd);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            using var gate = CommonOptions.Connect(parse);
            var dir = parse.GetValue(directory)!;
            var entries = ObjectNamespace.List(dir, gate);
            if (parse.GetValue(sd)) return ObjSecurityView.Print(dir, entries, gate, parse.GetValue(json));
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    directory = dir,
                    entries = entries.Select(e => new { name = e.Name, type = e.TypeName, target = e.LinkTarget }),
                });
                return 0;
            }
            var table = new Table().Title(Markup.Escape(dir)).AddColumn("name").AddColumn("type").AddColumn("target");
            foreach (var e in entries) table.AddRow(Markup.Escape(e.Name), e.TypeName, Markup.Escape(e.LinkTarget ?? ""));
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
