using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Channels;

/// <summary>
/// The shared header at the start of a channel's region (docs/rings.md, "Shared channels"): the
/// geometry, written once by the creator, then each direction's counters on a cache-line pair of
/// their own (each written by that direction's sender, so the two senders never share a line).
/// The two rings follow. Either side may scribble on any of it: attach copies and checks it once.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = ChannelLayout.HeaderLength)]
public struct ChannelHeader
{
    /// <summary><see cref="ChannelLayout.Magic"/>, written last.</summary>
    [FieldOffset(0)] public uint Magic;

    /// <summary><see cref="ChannelLayout.Version"/>.</summary>
    [FieldOffset(4)] public ushort Version;

    /// <summary><see cref="ChannelLayout.HeaderLength"/>: where the down ring starts.</summary>
    [FieldOffset(6)] public ushort HeaderLength;

    /// <summary>The down ring's data-area bytes (a power of two); its ring header says the same.</summary>
    [FieldOffset(8)] public int DownCapacity;

    /// <summary>The up ring's data-area bytes.</summary>
    [FieldOffset(12)] public int UpCapacity;

    /// <summary>What the driver does when the down ring is full.</summary>
    [FieldOffset(16)] public ChannelOverflowPolicy DownPolicy;

    /// <summary>What the user process does when the up ring is full.</summary>
    [FieldOffset(20)] public ChannelOverflowPolicy UpPolicy;

    /// <summary>None defined yet: must be 0.</summary>
    [FieldOffset(24)] public uint Flags;

    /// <summary>Driver → user traffic, written by the driver's sender.</summary>
    [FieldOffset(128)] public ChannelCounters Down;

    /// <summary>User → driver traffic, written by the user's sender.</summary>
    [FieldOffset(256)] public ChannelCounters Up;
}
