using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;

namespace KernelBridge.Tests.Channels;

/// <summary>
/// A channel in a memfd of its own, laid out with the given options, with the driver's endpoint
/// attached (and the user's too, unless a child process is to play the user), and raw access to
/// the header and the rings' headers for the tests that play a hostile peer.
/// </summary>
public sealed unsafe class TestChannel : IDisposable
{
    public TestChannel(ChannelOptions options, IRingDoorbell? doorbell = null, bool attachUser = true)
    {
        Memory = SharedMemory.Create("kb-test-channel", ChannelLayout.RegionLength(options));
        ChannelLayout.Initialize(Memory.Pointer, Memory.Length, options);
        Driver = Attach(ChannelSide.Driver, doorbell);
        User = attachUser ? Attach(ChannelSide.User, doorbell) : null!;
    }

    public SharedMemory Memory { get; }

    /// <summary>The kernel's side: sends down, receives up.</summary>
    public ChannelEndpoint Driver { get; }

    /// <summary>The user process's side, when the test plays both.</summary>
    public ChannelEndpoint User { get; }

    public ChannelHeader* Header => (ChannelHeader*)Memory.Pointer;

    public RingHeader* Ring(ChannelDirection direction) =>
        (RingHeader*)(Memory.Pointer + ChannelLayout.RingOffset(direction, Header->DownCapacity));

    /// <summary>Both directions alike: <paramref name="capacity"/>, <paramref name="policy"/>, <paramref name="maxRecord"/>.</summary>
    public static ChannelOptions Options(int capacity, ChannelOverflowPolicy policy = ChannelOverflowPolicy.Block, int maxRecord = 0, bool multiProducer = false)
    {
        var direction = new ChannelDirectionOptions(capacity, policy, maxRecord, multiProducer);
        return new ChannelOptions(direction, direction);
    }

    public ChannelEndpoint Attach(ChannelSide side, IRingDoorbell? doorbell = null)
    {
        Assert.Equal(RingStatus.Ok, ChannelEndpoint.TryAttach(Memory.Pointer, Memory.Length, side, doorbell, out var endpoint));
        return endpoint!;
    }

    /// <summary>The sender of <paramref name="direction"/> and the receiver at its other end.</summary>
    public (ChannelSender Sender, ChannelReceiver Receiver) Way(ChannelDirection direction) =>
        direction == ChannelDirection.Down ? (Driver.Sender, User.Receiver) : (User.Sender, Driver.Receiver);

    public void Dispose() => Memory.Dispose();
}
