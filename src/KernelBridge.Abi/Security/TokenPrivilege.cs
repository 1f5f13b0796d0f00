namespace KernelBridge.Abi.Security;

/// <summary>One privilege of a token (LUID_AND_ATTRIBUTES).</summary>
public readonly record struct TokenPrivilege(Privilege Privilege, PrivilegeAttributes Attributes)
{
    public bool IsEnabled => (Attributes & PrivilegeAttributes.SE_PRIVILEGE_ENABLED) != 0;
}
