namespace KernelBridge.Abi.Security;

/// <summary>One group of a token (SID_AND_ATTRIBUTES).</summary>
public sealed record TokenGroup(Sid Sid, GroupAttributes Attributes)
{
    public bool IsEnabled => (Attributes & GroupAttributes.SE_GROUP_ENABLED) != 0;
    public bool IsDenyOnly => (Attributes & GroupAttributes.SE_GROUP_USE_FOR_DENY_ONLY) != 0;
}
