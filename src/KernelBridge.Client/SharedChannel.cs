using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;
using KernelBridge.Client.Gate;
using KernelBridge.Platform;

namespace KernelBridge.Client;

/// <summary>
/// The user side of a driver's shared channel: the driver maps the channel into this process and
/// hands over its address (typically in an IOCTL's output); attach there, then receive what the
/// driver sends (down) and send to it (up). Records are read in place, without a system call while
/// they keep coming; a receiver with nothing to read sleeps on the channel's doorbell.
/// </summary>
public sealed unsafe class SharedChannel
{
    private readonly ChannelEndpoint _endpoint;

    private SharedChannel(nint address, long length, ChannelEndpoint endpoint)
    {
        Address = address;
        Length = length;
        _endpoint = endpoint;
    }

    public nint Address { get; }
    public long Length { get; }

    /// <summary>Driver to user.</summary>
    public ChannelReceiver Receiver => _endpoint.Receiver;

    /// <summary>User to driver.</summary>
    public ChannelSender Sender => _endpoint.Sender;

    /// <summary>
    /// Attaches to the channel a driver mapped at <paramref name="address"/> (the start of one of this
    /// process's views). Throws <see cref="ArgumentException"/> if nothing is mapped there, or
    /// <see cref="InvalidDataException"/> if what is there is not a channel.
    /// </summary>
    public static SharedChannel Attach(nint address, GateClient? gate = null)
    {
        gate ??= GateClient.Current;
        if (gate.Connection.Views is not { } views || !views.TryGetView((ulong)address, out var start, out var length))
            throw new ArgumentException($"no view is mapped at 0x{address:X}", nameof(address));
        var available = (long)(length - ((ulong)address - start));
        var status = ChannelEndpoint.TryAttach((byte*)address, available, ChannelSide.User, FutexDoorbell.Instance, out var endpoint);
        if (status != RingStatus.Ok) throw new InvalidDataException($"the view at 0x{address:X} holds no shared channel ({status})");
        return new SharedChannel(address, available, endpoint!);
    }

    /// <summary>Ends this side's waits with Cancelled (the driver or this program is finishing).</summary>
    public void Cancel() => _endpoint.Cancel();
}
