namespace KernelBridge.Abi.Security;

/// <summary>The privileges, numbered by their LUID's low part as Windows numbers them (SE_*_PRIVILEGE).</summary>
public enum Privilege : uint
{
    SeCreateTokenPrivilege = 2,
    SeAssignPrimaryTokenPrivilege = 3,
    SeLockMemoryPrivilege = 4,
    SeIncreaseQuotaPrivilege = 5,
    SeMachineAccountPrivilege = 6,
    SeTcbPrivilege = 7,
    SeSecurityPrivilege = 8,
    SeTakeOwnershipPrivilege = 9,
    SeLoadDriverPrivilege = 10,
    SeSystemProfilePrivilege = 11,
    SeSystemtimePrivilege = 12,
    SeProfileSingleProcessPrivilege = 13,
    SeIncreaseBasePriorityPrivilege = 14,
    SeCreatePagefilePrivilege = 15,
    SeCreatePermanentPrivilege = 16,
    SeBackupPrivilege = 17,
    SeRestorePrivilege = 18,
    SeShutdownPrivilege = 19,
    SeDebugPrivilege = 20,
    SeAuditPrivilege = 21,
    SeSystemEnvironmentPrivilege = 22,
    SeChangeNotifyPrivilege = 23,
    SeRemoteShutdownPrivilege = 24,
    SeUndockPrivilege = 25,
    SeSyncAgentPrivilege = 26,
    SeEnableDelegationPrivilege = 27,
    SeManageVolumePrivilege = 28,
    SeImpersonatePrivilege = 29,
    SeCreateGlobalPrivilege = 30,
    SeTrustedCredManAccessPrivilege = 31,
    SeRelabelPrivilege = 32,
    SeIncreaseWorkingSetPrivilege = 33,
    SeTimeZonePrivilege = 34,
    SeCreateSymbolicLinkPrivilege = 35,
    SeDelegateSessionUserImpersonatePrivilege = 36,
}

/// <summary>LookupPrivilegeValue / LookupPrivilegeName and the descriptions whoami prints.</summary>
public static class Privileges
{
    public const Privilege Lowest = Privilege.SeCreateTokenPrivilege;
    public const Privilege Highest = Privilege.SeDelegateSessionUserImpersonatePrivilege;

    public static IEnumerable<Privilege> All => Enum.GetValues<Privilege>();

    public static bool IsDefined(uint luid) => luid >= (uint)Lowest && luid <= (uint)Highest;

    /// <summary>LookupPrivilegeValue: names are matched without regard to case, as Windows does.</summary>
    public static bool TryParse(string? name, out Privilege privilege)
    {
        privilege = default;
        return name is not null && name.StartsWith("Se", StringComparison.OrdinalIgnoreCase) && name.EndsWith("Privilege", StringComparison.OrdinalIgnoreCase)
            && Enum.TryParse(name, ignoreCase: true, out privilege) && Enum.IsDefined(privilege);
    }

    /// <summary>The text whoami /priv shows beside the name.</summary>
    public static string Describe(Privilege privilege) => privilege switch
    {
        Privilege.SeCreateTokenPrivilege => "Create a token object",
        Privilege.SeAssignPrimaryTokenPrivilege => "Replace a process level token",
        Privilege.SeLockMemoryPrivilege => "Lock pages in memory",
        Privilege.SeIncreaseQuotaPrivilege => "Adjust memory quotas for a process",
        Privilege.SeMachineAccountPrivilege => "Add workstations to domain",
        Privilege.SeTcbPrivilege => "Act as part of the operating system",
        Privilege.SeSecurityPrivilege => "Manage auditing and security log",
        Privilege.SeTakeOwnershipPrivilege => "Take ownership of files or other objects",
        Privilege.SeLoadDriverPrivilege => "Load and unload device drivers",
        Privilege.SeSystemProfilePrivilege => "Profile system performance",
        Privilege.SeSystemtimePrivilege => "Change the system time",
        Privilege.SeProfileSingleProcessPrivilege => "Profile single process",
        Privilege.SeIncreaseBasePriorityPrivilege => "Increase scheduling priority",
        Privilege.SeCreatePagefilePrivilege => "Create a pagefile",
        Privilege.SeCreatePermanentPrivilege => "Create permanent shared objects",
        Privilege.SeBackupPrivilege => "Back up files and directories",
        Privilege.SeRestorePrivilege => "Restore files and directories",
        Privilege.SeShutdownPrivilege => "Shut down the system",
        Privilege.SeDebugPrivilege => "Debug programs",
        Privilege.SeAuditPrivilege => "Generate security audits",
        Privilege.SeSystemEnvironmentPrivilege => "Modify firmware environment values",
        Privilege.SeChangeNotifyPrivilege => "Bypass traverse checking",
        Privilege.SeRemoteShutdownPrivilege => "Force shutdown from a remote system",
        Privilege.SeUndockPrivilege => "Remove computer from docking station",
        Privilege.SeSyncAgentPrivilege => "Synchronize directory service data",
        Privilege.SeEnableDelegationPrivilege => "Enable computer and user accounts to be trusted for delegation",
        Privilege.SeManageVolumePrivilege => "Perform volume maintenance tasks",
        Privilege.SeImpersonatePrivilege => "Impersonate a client after authentication",
        Privilege.SeCreateGlobalPrivilege => "Create global objects",
        Privilege.SeTrustedCredManAccessPrivilege => "Access Credential Manager as a trusted caller",
        Privilege.SeRelabelPrivilege => "Modify an object label",
        Privilege.SeIncreaseWorkingSetPrivilege => "Increase a process working set",
        Privilege.SeTimeZonePrivilege => "Change the time zone",
        Privilege.SeCreateSymbolicLinkPrivilege => "Create symbolic links",
        Privilege.SeDelegateSessionUserImpersonatePrivilege => "Obtain an impersonation token for another user in the same session",
        _ => privilege.ToString(),
    };
}
