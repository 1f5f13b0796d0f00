namespace KernelBridge.Abi.Win32k;

/// <summary>The message mechanism's limits, with Windows' values where Windows has one.</summary>
public static class UserLimits
{
    /// <summary>USERPostMessageLimit: posted messages one queue holds; the next post fails with ERROR_NOT_ENOUGH_QUOTA.</summary>
    public const int PostMessageLimit = 10_000;

    /// <summary>A thread that has not asked for messages for this long, and is not waiting for one, is hung (IsHungAppWindow).</summary>
    public const int HungAppTimeoutMilliseconds = 5_000;

    /// <summary>The most bytes a WM_COPYDATA carries here (Windows sets no figure).</summary>
    public const int MaxCopyDataBytes = 1 << 20;

    /// <summary>The longest class name, window name or registered message name (an atom's name: 255 characters).</summary>
    public const int MaxAtomNameLength = 255;
}
