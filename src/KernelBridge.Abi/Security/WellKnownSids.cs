using System.Collections.Frozen;

namespace KernelBridge.Abi.Security;

/// <summary>The well-known SIDs KernelBridge uses, and the two-letter SDDL aliases Windows gives them.</summary>
public static class WellKnownSids
{
    private const ulong NullAuthority = 0, WorldAuthority = 1, LocalAuthority = 2, Creator = 3, Nt = 5, Mandatory = 16;
    private const uint Builtin = 32;

    public static readonly Sid NullSid = new(NullAuthority, 0);
    /// <summary>WD, Everyone.</summary>
    public static readonly Sid World = new(WorldAuthority, 0);
    public static readonly Sid Local = new(LocalAuthority, 0);
    /// <summary>CO, CREATOR OWNER: replaced by the new object's owner when an ACE is inherited.</summary>
    public static readonly Sid CreatorOwner = new(Creator, 0);
    /// <summary>CG, CREATOR GROUP.</summary>
    public static readonly Sid CreatorGroup = new(Creator, 1);
    /// <summary>OW, OWNER RIGHTS: an ACE for it replaces the owner's implicit READ_CONTROL | WRITE_DAC.</summary>
    public static readonly Sid OwnerRights = new(Creator, 4);
    /// <summary>NU, NT AUTHORITY\NETWORK.</summary>
    public static readonly Sid Network = new(Nt, 2);
    public static readonly Sid Batch = new(Nt, 3);
    /// <summary>IU, NT AUTHORITY\INTERACTIVE.</summary>
    public static readonly Sid Interactive = new(Nt, 4);
    /// <summary>SU, NT AUTHORITY\SERVICE.</summary>
    public static readonly Sid Service = new(Nt, 6);
    /// <summary>AN, NT AUTHORITY\ANONYMOUS LOGON.</summary>
    public static readonly Sid Anonymous = new(Nt, 7);
    /// <summary>PS, NT AUTHORITY\SELF.</summary>
    public static readonly Sid PrincipalSelf = new(Nt, 10);
    /// <summary>AU, NT AUTHORITY\Authenticated Users.</summary>
    public static readonly Sid AuthenticatedUsers = new(Nt, 11);
    /// <summary>RC, NT AUTHORITY\RESTRICTED.</summary>
    public static readonly Sid RestrictedCode = new(Nt, 12);
    /// <summary>WR, NT AUTHORITY\WRITE RESTRICTED.</summary>
    public static readonly Sid WriteRestrictedCode = new(Nt, 33);
    /// <summary>SY, NT AUTHORITY\SYSTEM.</summary>
    public static readonly Sid LocalSystem = new(Nt, 18);
    /// <summary>LS, NT AUTHORITY\LOCAL SERVICE.</summary>
    public static readonly Sid LocalService = new(Nt, 19);
    /// <summary>NS, NT AUTHORITY\NETWORK SERVICE.</summary>
    public static readonly Sid NetworkService = new(Nt, 20);
    /// <summary>BA, BUILTIN\Administrators.</summary>
    public static readonly Sid BuiltinAdministrators = new(Nt, Builtin, 544);
    /// <summary>BU, BUILTIN\Users.</summary>
    public static readonly Sid BuiltinUsers = new(Nt, Builtin, 545);
    /// <summary>BG, BUILTIN\Guests.</summary>
    public static readonly Sid BuiltinGuests = new(Nt, Builtin, 546);
    /// <summary>PU, BUILTIN\Power Users.</summary>
    public static readonly Sid PowerUsers = new(Nt, Builtin, 547);
    /// <summary>AO, BUILTIN\Account Operators.</summary>
    public static readonly Sid AccountOperators = new(Nt, Builtin, 548);
    /// <summary>SO, BUILTIN\Server Operators.</summary>
    public static readonly Sid ServerOperators = new(Nt, Builtin, 549);
    /// <summary>PO, BUILTIN\Print Operators.</summary>
    public static readonly Sid PrintOperators = new(Nt, Builtin, 550);
    /// <summary>BO, BUILTIN\Backup Operators.</summary>
    public static readonly Sid BackupOperators = new(Nt, Builtin, 551);
    /// <summary>RE, BUILTIN\Replicator.</summary>
    public static readonly Sid Replicator = new(Nt, Builtin, 552);
    /// <summary>RD, BUILTIN\Remote Desktop Users.</summary>
    public static readonly Sid RemoteDesktopUsers = new(Nt, Builtin, 555);
    /// <summary>NO, BUILTIN\Network Configuration Operators.</summary>
    public static readonly Sid NetworkConfigurationOperators = new(Nt, Builtin, 556);
    /// <summary>LW, ME, HI, SI: the mandatory integrity levels.</summary>
    public static readonly Sid LowIntegrity = new(Mandatory, 0x1000);
    public static readonly Sid MediumIntegrity = new(Mandatory, 0x2000);
    public static readonly Sid HighIntegrity = new(Mandatory, 0x3000);
    public static readonly Sid SystemIntegrity = new(Mandatory, 0x4000);

    private static readonly (string Alias, Sid Sid, string Name)[] Table =
    [
        ("WD", World, "Everyone"), ("CO", CreatorOwner, "CREATOR OWNER"), ("CG", CreatorGroup, "CREATOR GROUP"),
        ("OW", OwnerRights, "OWNER RIGHTS"), ("NU", Network, @"NT AUTHORITY\NETWORK"), ("IU", Interactive, @"NT AUTHORITY\INTERACTIVE"),
        ("SU", Service, @"NT AUTHORITY\SERVICE"), ("AN", Anonymous, @"NT AUTHORITY\ANONYMOUS LOGON"), ("PS", PrincipalSelf, @"NT AUTHORITY\SELF"),
        ("AU", AuthenticatedUsers, @"NT AUTHORITY\Authenticated Users"), ("RC", RestrictedCode, @"NT AUTHORITY\RESTRICTED"),
        ("WR", WriteRestrictedCode, @"NT AUTHORITY\WRITE RESTRICTED"), ("SY", LocalSystem, @"NT AUTHORITY\SYSTEM"),
        ("LS", LocalService, @"NT AUTHORITY\LOCAL SERVICE"), ("NS", NetworkService, @"NT AUTHORITY\NETWORK SERVICE"),
        ("BA", BuiltinAdministrators, @"BUILTIN\Administrators"), ("BU", BuiltinUsers, @"BUILTIN\Users"), ("BG", BuiltinGuests, @"BUILTIN\Guests"),
        ("PU", PowerUsers, @"BUILTIN\Power Users"), ("AO", AccountOperators, @"BUILTIN\Account Operators"),
        ("SO", ServerOperators, @"BUILTIN\Server Operators"), ("PO", PrintOperators, @"BUILTIN\Print Operators"),
        ("BO", BackupOperators, @"BUILTIN\Backup Operators"), ("RE", Replicator, @"BUILTIN\Replicator"),
        ("RD", RemoteDesktopUsers, @"BUILTIN\Remote Desktop Users"), ("NO", NetworkConfigurationOperators, @"BUILTIN\Network Configuration Operators"),
        ("LW", LowIntegrity, @"Mandatory Label\Low Mandatory Level"), ("ME", MediumIntegrity, @"Mandatory Label\Medium Mandatory Level"),
        ("HI", HighIntegrity, @"Mandatory Label\High Mandatory Level"), ("SI", SystemIntegrity, @"Mandatory Label\System Mandatory Level"),
    ];

    private static readonly FrozenDictionary<string, Sid> ByAlias = Table.ToFrozenDictionary(e => e.Alias, e => e.Sid, StringComparer.OrdinalIgnoreCase);
    private static readonly FrozenDictionary<Sid, string> AliasBySid = Table.ToFrozenDictionary(e => e.Sid, e => e.Alias);
    private static readonly FrozenDictionary<Sid, string> NameBySid = Table.Select(e => KeyValuePair.Create(e.Sid, e.Name))
        .Append(KeyValuePair.Create(NullSid, "NULL SID")).Append(KeyValuePair.Create(Local, "LOCAL")).Append(KeyValuePair.Create(Batch, @"NT AUTHORITY\BATCH"))
        .ToFrozenDictionary();

    /// <summary>The SID an SDDL alias stands for ("SY", "BA"; case-insensitive as Windows accepts it).</summary>
    public static bool TryFromAlias(string alias, out Sid? sid) => ByAlias.TryGetValue(alias, out sid);

    /// <summary>The alias Windows prints for the SID in SDDL, or null (then the S-1-... form is printed).</summary>
    public static string? AliasOf(Sid sid) => AliasBySid.GetValueOrDefault(sid);

    /// <summary>The account name (LookupAccountSid's DOMAIN\name); Unix users and groups as "Unix User\uid" / "Unix Group\gid".</summary>
    public static string? NameOf(Sid sid)
    {
        if (NameBySid.TryGetValue(sid, out var name)) return name;
        if (sid.IdentifierAuthority == 22 && sid.SubAuthorityCount == 2)
            return sid.SubAuthorities[0] switch { 1 => $@"Unix User\{sid.Rid}", 2 => $@"Unix Group\{sid.Rid}", _ => null };
        return null;
    }
}
