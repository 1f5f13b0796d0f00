using System.Globalization;
using KernelBridge.Abi;
using KernelBridge.Abi.Security;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Cli.Commands;

/// <summary>The tour's last part, security: who the kernel says this process is, and a DACL that refuses one right and grants another.</summary>
internal static unsafe class SecurityTour
{
    public static List<DemoStep> Run(GateClient gate)
    {
        using var scope = GateClient.Use(gate);
        return [WhoAmI(gate), DaclDecides()];
    }

    private static DemoStep WhoAmI(GateClient gate)
    {
        using var token = AccessToken.OpenCurrent(gate: gate);
        var user = token.User;
        var groups = token.Groups.Where(g => g.IsEnabled).Select(g => WellKnownSids.NameOf(g.Sid) ?? g.Sid.ToString()).ToList();
        var enabled = token.Privileges.Count(p => p.IsEnabled);
        return new DemoStep("Who am I", "OpenProcessToken(TOKEN_QUERY) + GetTokenInformation(TokenUser, TokenGroups, TokenPrivileges)",
            NtStatus.STATUS_SUCCESS, 0, [],
            $"The kernel made this process's token when it connected, from the socket's SO_PEERCRED: user {user} (Unix uid "
            + $"{user.Rid.ToString(CultureInfo.InvariantCulture)}), groups {string.Join(", ", groups)}; {token.Privileges.Count} privileges, "
            + $"{enabled} enabled. `kbridge whoami` shows it all.");
    }

    private static DemoStep DaclDecides()
    {
        var name = $@"\BaseNamedObjects\kbridge-demo-{Environment.ProcessId}-{Environment.TickCount64}";
        // Everyone may wait on it and query it; nobody may signal it.
        const string sddl = "D:(D;;0x2;;;WD)(A;;0x1F0003;;;WD)";
        var descriptor = Sddl.Parse(sddl).ToSelfRelative();
        nint created, refused;
        var status = Ntdll.NtCreateEvent(&created, AccessMask.SYNCHRONIZE, new ObjectAttributes(name, 0) { SecurityDescriptor = descriptor },
            EventType.NotificationEvent, false);
        NtStatusException.ThrowIfFailed(status, "NtCreateEvent");
        try
        {
            var denied = Ntdll.NtOpenEvent(&refused, AccessMask.EVENT_MODIFY_STATE, new ObjectAttributes(name, 0));
            if (denied.IsSuccess) Ntdll.NtClose(refused);
            return new DemoStep("A DACL says no", $"NtCreateEvent(\"{name}\", \"{sddl}\"), then NtOpenEvent(EVENT_MODIFY_STATE)",
                denied, 0, [],
                "The event carries the descriptor given at its creation. The open by name went through the Windows access check: the "
                + "ACEs are read in order, and the first, deny EVENT_MODIFY_STATE to Everyone, decides that right before the allow "
                + "after it can grant it. Waiting on the event or querying it would be granted. See docs/access-control.md.");
        }
        finally
        {
            Ntdll.NtClose(created);
        }
    }
}
