namespace KernelBridge.Abi.Channels;

/// <summary>Which of a channel's two rings: each carries records one way only.</summary>
public enum ChannelDirection
{
    /// <summary>Driver → user: the driver produces, the user process consumes.</summary>
    Down = 0,

    /// <summary>User → driver: the user process produces, the driver consumes.</summary>
    Up = 1,
}
