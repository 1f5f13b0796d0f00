using KernelBridge.Abi.Security;

namespace KernelBridge.Kernel.Se;

/// <summary>
/// A primary access token: who a process is (user, groups, owner and primary group for what it
/// creates, the default DACL) and what it may do beyond ACLs (privileges, each held enabled or
/// disabled). Clients get theirs from SO_PEERCRED (<see cref="FromCredentials"/>); the kernel's own
/// process is SYSTEM (<see cref="CreateSystem"/>). Everything but the privileges' state is
/// immutable; privilege changes swap a whole array, so readers never lock.
/// </summary>
internal sealed class Token : KernelObject
{
    private static long _nextLuid = 0x1000;

    private readonly object _adjustLock = new();
    private TokenPrivilege[] _privileges;

    private Token(uint userId, uint groupId, Sid user, IReadOnlyList<TokenGroup> groups, Sid owner, Sid primaryGroup, Acl? defaultDacl,
        TokenPrivilege[] privileges, bool elevated) : base(ObjectTypes.Token)
    {
        UserId = userId;
        GroupId = groupId;
        User = user;
        Groups = groups;
        Owner = owner;
        PrimaryGroup = primaryGroup;
        DefaultDacl = defaultDacl;
        _privileges = privileges;
        IsElevated = elevated;
        TokenId = Interlocked.Increment(ref _nextLuid);
        AuthenticationId = Interlocked.Increment(ref _nextLuid);
    }

    /// <summary>The Unix uid and gid the token was made from (SYSTEM: 0, 0).</summary>
    public uint UserId { get; }
    public uint GroupId { get; }

    public Sid User { get; }
    public IReadOnlyList<TokenGroup> Groups { get; }
    /// <summary>TokenOwner: the owner objects this token creates get.</summary>
    public Sid Owner { get; }
    public Sid PrimaryGroup { get; }
    /// <summary>TokenDefaultDacl: the DACL of a new object that neither gives one nor inherits one.</summary>
    public Acl? DefaultDacl { get; }
    /// <summary>TokenElevation: root and SYSTEM.</summary>
    public bool IsElevated { get; }
    public long TokenId { get; }
    public long AuthenticationId { get; }

    /// <summary>The privileges and their state now (a snapshot).</summary>
    public IReadOnlyList<TokenPrivilege> Privileges => Volatile.Read(ref _privileges);

    /// <summary>Kept for log lines and older callers: the user as "S-1-22-1-uid".</summary>
    public string UserSid => User.ToString();

    /// <summary>Whether the token holds the privilege at all (enabled or not).</summary>
    public bool HasPrivilege(Privilege privilege) => Find(Volatile.Read(ref _privileges), privilege) >= 0;

    /// <summary>SeSinglePrivilegeCheck: held and enabled. What NtLoadDriver and the access check ask.</summary>
    public bool IsPrivilegeEnabled(Privilege privilege)
    {
        var privileges = Volatile.Read(ref _privileges);
        var index = Find(privileges, privilege);
        return index >= 0 && privileges[index].IsEnabled;
    }

    /// <summary>Whether <paramref name="sid"/> is the user or an enabled group (deny-only groups too when <paramref name="forDeny"/>).</summary>
    public bool Contains(Sid sid, bool forDeny = false)
    {
        if (sid == User) return true;
        foreach (var group in Groups)
        {
            if (group.Sid != sid) continue;
            if (group.IsEnabled || (forDeny && group.IsDenyOnly)) return true;
        }
        return false;
    }

    /// <summary>
    /// NtAdjustPrivilegesToken's work: disable all, or set each listed privilege's ENABLED bit
    /// (SE_PRIVILEGE_REMOVED removes it for good). <paramref name="previousState"/> receives the
    /// prior state of what changed. With <paramref name="previousCapacity"/> (entries the caller's
    /// PreviousState buffer holds) too small nothing changes and STATUS_BUFFER_TOO_SMALL comes back;
    /// a listed privilege the token does not hold makes STATUS_NOT_ALL_ASSIGNED, the rest still applied.
    /// </summary>
    public NtStatus Adjust(bool disableAll, ReadOnlySpan<TokenPrivilege> newState, int? previousCapacity, List<TokenPrivilege> previousState)
    {
        lock (_adjustLock)
        {
            var next = (TokenPrivilege[])_privileges.Clone();
            var removed = new List<Privilege>();
            var allAssigned = true;
            if (disableAll)
            {
                for (var i = 0; i < next.Length; i++)
                {
                    if (!next[i].IsEnabled) continue;
                    previousState.Add(next[i]);
                    next[i] = next[i] with { Attributes = next[i].Attributes & ~PrivilegeAttributes.SE_PRIVILEGE_ENABLED };
                }
            }
            else
            {
                foreach (var wanted in newState)
                {
                    var index = Find(next, wanted.Privilege);
                    if (index < 0 || removed.Contains(wanted.Privilege)) { allAssigned = false; continue; }
                    var before = next[index];
                    if ((wanted.Attributes & PrivilegeAttributes.SE_PRIVILEGE_REMOVED) != 0)
                    {
                        previousState.Add(before);
                        removed.Add(before.Privilege);
                        continue;
                    }
                    var enable = (wanted.Attributes & PrivilegeAttributes.SE_PRIVILEGE_ENABLED) != 0;
                    if (before.IsEnabled == enable) continue;
                    previousState.Add(before);
                    next[index] = before with
                    {
                        Attributes = enable ? before.Attributes | PrivilegeAttributes.SE_PRIVILEGE_ENABLED : before.Attributes & ~PrivilegeAttributes.SE_PRIVILEGE_ENABLED,
                    };
                }
            }
            if (previousCapacity is { } capacity && previousState.Count > capacity) return NtStatus.STATUS_BUFFER_TOO_SMALL;
            if (removed.Count > 0) next = [.. next.Where(p => !removed.Contains(p.Privilege))];
            Volatile.Write(ref _privileges, next);
            return allAssigned ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_NOT_ALL_ASSIGNED;
        }
    }

    /// <summary>The security descriptor of the token object itself: its owner, primary group and default DACL (as Windows gives a new token).</summary>
    public SecurityDescriptor Descriptor => new(Owner, PrimaryGroup, DefaultDacl);

    private static int Find(TokenPrivilege[] privileges, Privilege privilege)
    {
        for (var i = 0; i < privileges.Length; i++)
            if (privileges[i].Privilege == privilege) return i;
        return -1;
    }

    private const GroupAttributes EnabledGroup = GroupAttributes.SE_GROUP_MANDATORY | GroupAttributes.SE_GROUP_ENABLED_BY_DEFAULT | GroupAttributes.SE_GROUP_ENABLED;
    private const GroupAttributes IntegrityGroup = GroupAttributes.SE_GROUP_INTEGRITY | GroupAttributes.SE_GROUP_INTEGRITY_ENABLED;
    private const PrivilegeAttributes OnByDefault = PrivilegeAttributes.SE_PRIVILEGE_ENABLED | PrivilegeAttributes.SE_PRIVILEGE_ENABLED_BY_DEFAULT;

    /// <summary>What a standard user holds on Windows: only change-notify is on.</summary>
    private static readonly TokenPrivilege[] UserPrivileges =
    [
        new(Privilege.SeShutdownPrivilege, 0), new(Privilege.SeChangeNotifyPrivilege, OnByDefault), new(Privilege.SeUndockPrivilege, 0),
        new(Privilege.SeIncreaseWorkingSetPrivilege, 0), new(Privilege.SeTimeZonePrivilege, 0),
    ];

    /// <summary>What an elevated administrator holds on Windows: the powerful ones present but disabled until a tool enables them.</summary>
    private static readonly TokenPrivilege[] AdministratorPrivileges =
    [
        new(Privilege.SeIncreaseQuotaPrivilege, 0), new(Privilege.SeSecurityPrivilege, 0), new(Privilege.SeTakeOwnershipPrivilege, 0),
        new(Privilege.SeLoadDriverPrivilege, 0), new(Privilege.SeSystemProfilePrivilege, 0), new(Privilege.SeSystemtimePrivilege, 0),
        new(Privilege.SeProfileSingleProcessPrivilege, 0), new(Privilege.SeIncreaseBasePriorityPrivilege, 0), new(Privilege.SeCreatePagefilePrivilege, 0),
        new(Privilege.SeBackupPrivilege, 0), new(Privilege.SeRestorePrivilege, 0), new(Privilege.SeShutdownPrivilege, 0),
        new(Privilege.SeDebugPrivilege, 0), new(Privilege.SeSystemEnvironmentPrivilege, 0), new(Privilege.SeChangeNotifyPrivilege, OnByDefault),
        new(Privilege.SeRemoteShutdownPrivilege, 0), new(Privilege.SeUndockPrivilege, 0), new(Privilege.SeManageVolumePrivilege, 0),
        new(Privilege.SeImpersonatePrivilege, OnByDefault), new(Privilege.SeCreateGlobalPrivilege, OnByDefault),
        new(Privilege.SeIncreaseWorkingSetPrivilege, 0), new(Privilege.SeTimeZonePrivilege, 0), new(Privilege.SeCreateSymbolicLinkPrivilege, 0),
        new(Privilege.SeDelegateSessionUserImpersonatePrivilege, 0),
    ];

    /// <summary>
    /// A client's token from its SO_PEERCRED credentials: user S-1-22-1-uid, primary group
    /// S-1-22-2-gid, each supplementary group S-1-22-2-gid, Everyone, Users, Authenticated Users and
    /// an integrity level. Root is also BUILTIN\Administrators (its owner for new objects, as an
    /// elevated administrator's is) and holds the administrator's privileges, disabled by default.
    /// </summary>
    public static Token FromCredentials(uint uid, uint gid, IEnumerable<uint>? supplementaryGroups = null)
    {
        var user = Sid.ForUnixUser(uid);
        var primaryGroup = Sid.ForUnixGroup(gid);
        var root = uid == 0;
        var groups = new List<TokenGroup> { new(primaryGroup, EnabledGroup) };
        foreach (var extra in supplementaryGroups ?? [])
        {
            var sid = Sid.ForUnixGroup(extra);
            if (!groups.Any(g => g.Sid == sid)) groups.Add(new(sid, EnabledGroup));
        }
        groups.Add(new(WellKnownSids.World, EnabledGroup));
        if (root) groups.Add(new(WellKnownSids.BuiltinAdministrators, EnabledGroup | GroupAttributes.SE_GROUP_OWNER));
        groups.Add(new(WellKnownSids.BuiltinUsers, EnabledGroup));
        groups.Add(new(WellKnownSids.AuthenticatedUsers, EnabledGroup));
        groups.Add(new(root ? WellKnownSids.HighIntegrity : WellKnownSids.MediumIntegrity, IntegrityGroup));
        var owner = root ? WellKnownSids.BuiltinAdministrators : user;
        var dacl = new Acl([Ace.Allow(owner, AccessMask.GENERIC_ALL), Ace.Allow(WellKnownSids.LocalSystem, AccessMask.GENERIC_ALL)]);
        return new Token(uid, gid, user, groups, owner, primaryGroup, dacl, (TokenPrivilege[])(root ? AdministratorPrivileges : UserPrivileges).Clone(), root);
    }

    /// <summary>As <see cref="FromCredentials"/>, with the supplementary groups /proc/PID/status lists for the client.</summary>
    public static Token ForProcess(int pid, uint uid, uint gid) => FromCredentials(uid, gid, SupplementaryGroups.Of(pid));

    /// <summary>The kernel's own token: NT AUTHORITY\SYSTEM, an administrator, every privilege enabled.</summary>
    public static Token CreateSystem()
    {
        var groups = new List<TokenGroup>
        {
            new(WellKnownSids.BuiltinAdministrators, EnabledGroup | GroupAttributes.SE_GROUP_OWNER),
            new(WellKnownSids.World, EnabledGroup),
            new(WellKnownSids.AuthenticatedUsers, EnabledGroup),
            new(WellKnownSids.SystemIntegrity, IntegrityGroup),
        };
        var dacl = new Acl([Ace.Allow(WellKnownSids.LocalSystem, AccessMask.GENERIC_ALL),
            Ace.Allow(WellKnownSids.BuiltinAdministrators, AccessMask.GENERIC_READ | AccessMask.GENERIC_EXECUTE)]);
        var privileges = Abi.Security.Privileges.All.Select(p => new TokenPrivilege(p, OnByDefault)).ToArray();
        return new Token(0, 0, WellKnownSids.LocalSystem, groups, WellKnownSids.BuiltinAdministrators, WellKnownSids.LocalSystem, dacl, privileges, true);
    }
}
