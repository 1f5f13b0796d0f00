using KernelBridge.Abi;
using KernelBridge.Abi.Channels;
using KernelBridge.Abi.Rings;

namespace KernelBridge.Ddk;

/// <summary>
/// A shared channel between a driver and a user process: variable-length records each way (down:
/// driver to user, up: user to driver) in one section, with doorbells so a waiting receiver sleeps
/// and a busy one makes no system call per record. The driver creates it, maps it into the caller
/// (<see cref="MapIntoCurrentProcess"/>, typically in an IOCTL that returns the address), and
/// disposes it at IRP_MJ_CLEANUP; the user side attaches with the client's SharedChannel.Attach.
/// </summary>
public sealed unsafe class SharedChannel : IDisposable
{
    private readonly ChannelEndpoint _endpoint;
    private readonly ulong _systemAddress;
    private int _disposed;

    private SharedChannel(SectionObject section, ulong systemAddress, long length, ChannelEndpoint endpoint)
    {
        Section = section;
        _systemAddress = systemAddress;
        Length = length;
        _endpoint = endpoint;
    }

    /// <summary>The section the channel lives in (referenced by the channel until disposed).</summary>
    public SectionObject Section { get; }

    /// <summary>The channel's size in bytes: what a user view of it spans.</summary>
    public long Length { get; }

    /// <summary>Driver to user: <see cref="ChannelSender.Send"/> or Reserve/Commit, under the down direction's overflow policy.</summary>
    public ChannelSender Sender => _endpoint.Sender;

    /// <summary>User to driver.</summary>
    public ChannelReceiver Receiver => _endpoint.Receiver;

    /// <summary>Makes a channel with the given rings in a new section, mapped in kernel space; STATUS_INSUFFICIENT_RESOURCES without memory.</summary>
    public static NtStatus Create(ChannelOptions options, out SharedChannel? channel)
    {
        channel = null;
        var runtime = KernelRuntime.Current;
        var length = ChannelLayout.RegionLength(options);
        var status = runtime.CreateSectionObject(length, out var section, out var systemAddress);
        if (!status.IsSuccess) return status;
        var region = (byte*)systemAddress;
        ChannelLayout.Initialize(region, length, options);
        if (ChannelEndpoint.TryAttach(region, length, ChannelSide.Driver, runtime.Doorbell, out var endpoint) != RingStatus.Ok)
        {
            runtime.ReleaseSectionObject(section!, systemAddress);
            return NtStatus.STATUS_INVALID_PARAMETER;
        }
        channel = new SharedChannel(section!, systemAddress, length, endpoint!);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>Maps the channel, read-write, into the requesting process; its address there (0 on failure, with the status).</summary>
    public NtStatus MapIntoCurrentProcess(out ulong userAddress)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        userAddress = 0;
        var size = (ulong)Length;
        return Mm.MapViewOfSection(Section, ref userAddress, ref size, PageProtection.PAGE_READWRITE);
    }

    /// <summary>Wakes the driver's own waits with Cancelled, unmaps the kernel's view and lets the section go (user views keep it until unmapped).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _endpoint.Cancel();
        KernelRuntime.Of(Section).ReleaseSectionObject(Section, _systemAddress);
    }
}
