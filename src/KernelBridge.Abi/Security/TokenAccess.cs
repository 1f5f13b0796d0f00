namespace KernelBridge.Abi.Security;

/// <summary>The token object's specific rights (TOKEN_*), with Windows' values and generic mapping.</summary>
public static class TokenAccess
{
    public const uint TOKEN_ASSIGN_PRIMARY = 0x0001;
    public const uint TOKEN_DUPLICATE = 0x0002;
    public const uint TOKEN_IMPERSONATE = 0x0004;
    public const uint TOKEN_QUERY = 0x0008;
    public const uint TOKEN_QUERY_SOURCE = 0x0010;
    public const uint TOKEN_ADJUST_PRIVILEGES = 0x0020;
    public const uint TOKEN_ADJUST_GROUPS = 0x0040;
    public const uint TOKEN_ADJUST_DEFAULT = 0x0080;
    public const uint TOKEN_ADJUST_SESSIONID = 0x0100;
    public const uint TOKEN_ALL_ACCESS = AccessMask.STANDARD_RIGHTS_REQUIRED | 0x1FF;
    public const uint TOKEN_READ = AccessMask.STANDARD_RIGHTS_READ | TOKEN_QUERY;
    public const uint TOKEN_WRITE = AccessMask.STANDARD_RIGHTS_WRITE | TOKEN_ADJUST_PRIVILEGES | TOKEN_ADJUST_GROUPS | TOKEN_ADJUST_DEFAULT;
    public const uint TOKEN_EXECUTE = AccessMask.STANDARD_RIGHTS_EXECUTE;

    public static readonly GenericMapping Mapping = new(TOKEN_READ, TOKEN_WRITE, TOKEN_EXECUTE, TOKEN_ALL_ACCESS);
}
