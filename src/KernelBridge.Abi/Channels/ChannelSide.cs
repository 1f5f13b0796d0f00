namespace KernelBridge.Abi.Channels;

/// <summary>The two ends of a channel: each sends on one ring and receives on the other.</summary>
public enum ChannelSide
{
    /// <summary>The driver, in the kernel process: sends <see cref="ChannelDirection.Down"/>, receives <see cref="ChannelDirection.Up"/>.</summary>
    Driver = 0,

    /// <summary>The user process: sends <see cref="ChannelDirection.Up"/>, receives <see cref="ChannelDirection.Down"/>.</summary>
    User = 1,
}
