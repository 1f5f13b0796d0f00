namespace KernelBridge.Abi.Channels;

/// <summary>The creator's choice for a channel: one set of options per direction.</summary>
public readonly record struct ChannelOptions(ChannelDirectionOptions Down, ChannelDirectionOptions Up)
{
    internal ChannelDirectionOptions For(ChannelDirection direction) => direction == ChannelDirection.Down ? Down : Up;
}
