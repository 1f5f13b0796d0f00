namespace KernelBridge.Abi.Security;

/// <summary>ACE_HEADER.AceType values KernelBridge reads and writes.</summary>
public enum AceType : byte
{
    ACCESS_ALLOWED_ACE_TYPE = 0,
    ACCESS_DENIED_ACE_TYPE = 1,
    SYSTEM_AUDIT_ACE_TYPE = 2,
    SYSTEM_ALARM_ACE_TYPE = 3,
    SYSTEM_MANDATORY_LABEL_ACE_TYPE = 0x11,
}
