using System.CommandLine;
using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Client;
using Spectre.Console;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// kbridge whoami: this process's token as the kernel sees it, like Windows' `whoami /all`
/// (user, groups with their attributes, privileges with their state). --enable NAME enables a
/// privilege first (as AdjustTokenPrivileges would), so the table shows what a tool can switch on.
/// </summary>
internal static class WhoamiCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json("one JSON object (user, groups, privileges, owner, primaryGroup, defaultDacl, elevated)");
        var enable = new Option<string[]>("--enable")
        {
            Description = "Enable a privilege first (repeatable), e.g. SeLoadDriverPrivilege",
            HelpName = "PRIVILEGE",
        };
        var command = new Command("whoami", "Show this process's token: user, groups and privileges (like whoami /all)");
        command.Options.Add(json);
        command.Options.Add(enable);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var wanted = new List<Privilege>();
            foreach (var name in parse.GetValue(enable) ?? [])
            {
                if (!Privileges.TryParse(name, out var privilege))
                    return Fail(Win32Error.ERROR_NO_SUCH_PRIVILEGE, $"'{name}' is not a privilege name (names look like SeDebugPrivilege)");
                wanted.Add(privilege);
            }
            using var gate = CommonOptions.Connect(parse);
            using var token = AccessToken.OpenCurrent(TokenAccess.TOKEN_QUERY | TokenAccess.TOKEN_ADJUST_PRIVILEGES, gate);
            foreach (var privilege in wanted)
            {
                try
                {
                    token.Enable(privilege);
                }
                catch (NtStatusException e) when (e.Status == NtStatus.STATUS_PRIVILEGE_NOT_HELD)
                {
                    return Fail(Win32Error.ERROR_NOT_ALL_ASSIGNED, $"this token does not hold {privilege}, so it cannot be enabled");
                }
            }
            var user = token.User;
            var groups = token.Groups;
            var privileges = token.Privileges;
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    user = new { name = AccountName(user), sid = user.ToString() },
                    groups = groups.Select(g => new { name = AccountName(g.Sid), type = TypeOf(g), sid = g.Sid.ToString(), attributes = AttributeWords(g.Attributes) }),
                    privileges = privileges.Select(p => new { name = p.Privilege.ToString(), description = Privileges.Describe(p.Privilege), state = StateOf(p) }),
                    owner = token.Owner.ToString(),
                    primaryGroup = token.PrimaryGroup.ToString(),
                    defaultDacl = token.DefaultDacl is { } dacl ? string.Concat(dacl.Aces.Select(Sddl.FormatAce)) : null,
                    elevated = token.IsElevated,
                });
                return 0;
            }
            PrintTables(user, groups, privileges);
            return 0;
        }));
        return command;
    }

    private static int Fail(Win32Error error, string message)
    {
        Console.Error.WriteLine($"kbridge: {error} ({(uint)error}): {message}");
        return 1;
    }

    private static void PrintTables(Sid user, IReadOnlyList<TokenGroup> groups, IReadOnlyList<TokenPrivilege> privileges)
    {
        AnsiConsole.Write(new Rule("USER INFORMATION").LeftJustified());
        var userTable = new Table().AddColumn("User Name").AddColumn("SID");
        userTable.AddRow(Markup.Escape(AccountName(user)), user.ToString());
        AnsiConsole.Write(userTable);

        AnsiConsole.Write(new Rule("GROUP INFORMATION").LeftJustified());
        var groupTable = new Table().AddColumn("Group Name").AddColumn("Type").AddColumn("SID").AddColumn("Attributes");
        foreach (var group in groups)
            groupTable.AddRow(Markup.Escape(AccountName(group.Sid)), TypeOf(group), group.Sid.ToString(), Markup.Escape(string.Join(", ", AttributeWords(group.Attributes))));
        AnsiConsole.Write(groupTable);

        AnsiConsole.Write(new Rule("PRIVILEGES INFORMATION").LeftJustified());
        var privilegeTable = new Table().AddColumn("Privilege Name").AddColumn("Description").AddColumn("State");
        foreach (var privilege in privileges)
            privilegeTable.AddRow(privilege.Privilege.ToString(), Markup.Escape(Privileges.Describe(privilege.Privilege)),
                privilege.IsEnabled ? "[green]Enabled[/]" : "Disabled");
        AnsiConsole.Write(privilegeTable);
    }

    private static string StateOf(TokenPrivilege privilege) => privilege.IsEnabled ? "Enabled" : "Disabled";

    /// <summary>The "Type" column of whoami /groups.</summary>
    private static string TypeOf(TokenGroup group)
    {
        if ((group.Attributes & GroupAttributes.SE_GROUP_INTEGRITY) != 0) return "Label";
        var sid = group.Sid;
        if (sid.IdentifierAuthority == 5 && sid.SubAuthorityCount == 2 && sid.SubAuthorities[0] == 32) return "Alias";
        if (sid.IdentifierAuthority == 22) return "Group";
        return "Well-known group";
    }

    /// <summary>The attribute words whoami prints ("Mandatory group, Enabled by default, Enabled group").</summary>
    private static List<string> AttributeWords(GroupAttributes attributes)
    {
        var words = new List<string>();
        if ((attributes & GroupAttributes.SE_GROUP_MANDATORY) != 0) words.Add("Mandatory group");
        if ((attributes & GroupAttributes.SE_GROUP_ENABLED_BY_DEFAULT) != 0) words.Add("Enabled by default");
        if ((attributes & GroupAttributes.SE_GROUP_ENABLED) != 0) words.Add("Enabled group");
        if ((attributes & GroupAttributes.SE_GROUP_OWNER) != 0) words.Add("Group owner");
        if ((attributes & GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY) != 0) words.Add("Group used for deny only");
        if ((attributes & GroupAttributes.SE_GROUP_INTEGRITY) != 0) words.Add("Integrity");
        if ((attributes & GroupAttributes.SE_GROUP_INTEGRITY_ENABLED) != 0) words.Add("Integrity enabled");
        return words;
    }

    /// <summary>DOMAIN\name as LookupAccountSid would give it; Unix users and groups by their /etc/passwd and /etc/group names.</summary>
    private static string AccountName(Sid sid)
    {
        if (sid.IdentifierAuthority == 22 && sid.SubAuthorityCount == 2 && sid.SubAuthorities[0] is 1 or 2)
        {
            var isUser = sid.SubAuthorities[0] == 1;
            var name = UnixName(isUser ? "/etc/passwd" : "/etc/group", sid.Rid);
            return $@"{(isUser ? "Unix User" : "Unix Group")}\{name ?? sid.Rid.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
        }
        return WellKnownSids.NameOf(sid) ?? sid.ToString();
    }

    /// <summary>The name of id <paramref name="id"/> in an /etc/passwd-style file (name:x:id:...), or null.</summary>
    private static string? UnixName(string file, uint id)
    {
        try
        {
            var idText = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var line in File.ReadLines(file))
            {
                var fields = line.Split(':');
                if (fields.Length > 2 && fields[2] == idText) return fields[0];
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
