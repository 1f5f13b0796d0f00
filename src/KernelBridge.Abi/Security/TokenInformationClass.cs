namespace KernelBridge.Abi.Security;

/// <summary>TOKEN_INFORMATION_CLASS, Windows' numbers; KernelBridge answers the ones listed here.</summary>
public enum TokenInformationClass : uint
{
    TokenUser = 1,
    TokenGroups = 2,
    TokenPrivileges = 3,
    TokenOwner = 4,
    TokenPrimaryGroup = 5,
    TokenDefaultDacl = 6,
    TokenType = 7,
    TokenStatistics = 10,
    TokenElevationType = 18,
    TokenElevation = 20,
}
