namespace KernelBridge.Kernel.Se;

/// <summary>Privileges a token may hold (a subset of Windows' Se*Privilege).</summary>
[Flags]
internal enum Privileges
{
    None = 0,
    SeLoadDriverPrivilege = 1,
    SeShutdownPrivilege = 2,
    SeDebugPrivilege = 4,
}

/// <summary>
/// A process's security identity, built from SO_PEERCRED when it connects. Root holds the
/// load-driver privilege (as Administrators do); everyone else holds none of the powerful ones.
/// </summary>
internal sealed record Token(uint UserId, uint GroupId, Privileges Privileges)
{
    public static Token FromCredentials(uint uid, uint gid) =>
        new(uid, gid, uid == 0 ? Privileges.SeLoadDriverPrivilege | Privileges.SeShutdownPrivilege | Privileges.SeDebugPrivilege : Privileges.SeShutdownPrivilege);

    public bool Holds(Privileges privilege) => (Privileges & privilege) == privilege;

    /// <summary>The user as Windows would print a SID for it (S-1-22-1-uid is the Unix-user SID form Samba uses).</summary>
    public string UserSid => $"S-1-22-1-{UserId}";
}
