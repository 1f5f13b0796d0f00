using KernelBridge.Client;
using KernelBridge.Client.Gate;
using Spectre.Console;

namespace KernelBridge.Cli.Commands;

/// <summary>`kbridge obj DIR --sd`: the directory's own descriptor and each entry's, as SDDL (or why it cannot be read).</summary>
internal static class ObjSecurityView
{
    public static int Print(string directory, IReadOnlyList<DirectoryEntry> entries, GateClient gate, bool json)
    {
        var own = Describe(directory, gate);
        var rows = entries.Select(e => (Entry: e, Sddl: Describe(directory.TrimEnd('\\') + @"\" + e.Name, gate))).ToList();
        if (json)
        {
            CommonOptions.PrintJson(new
            {
                directory,
                sd = own,
                entries = rows.Select(r => new { name = r.Entry.Name, type = r.Entry.TypeName, target = r.Entry.LinkTarget, sd = r.Sddl }),
            });
            return 0;
        }
        var table = new Table().Title(Markup.Escape($"{directory}  {own}")).AddColumn("name").AddColumn("type").AddColumn("security descriptor");
        foreach (var (entry, sddl) in rows) table.AddRow(Markup.Escape(entry.Name), entry.TypeName, Markup.Escape(sddl));
        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>The SDDL, or "(STATUS_...)" when the caller may not read it.</summary>
    private static string Describe(string name, GateClient gate) =>
        ObjectSecurity.TrySddlOfName(name, out var status, gate) ?? $"({status})";
}
