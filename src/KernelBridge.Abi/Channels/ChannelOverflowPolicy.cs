namespace KernelBridge.Abi.Channels;

/// <summary>
/// What a sender does when its ring has no room for a record, chosen per direction by the
/// channel's creator. Zero is not a policy, so a header of zeroes is refused.
/// </summary>
public enum ChannelOverflowPolicy
{
    /// <summary>Wait for the receiver to release space (spin, then sleep on the ring's space doorbell), bounded by the sender's timeout.</summary>
    Block = 1,

    /// <summary>Return at once and count the record in the channel header's dropped counter, which both sides can read.</summary>
    Drop = 2,
}
