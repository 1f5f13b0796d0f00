namespace KernelBridge.Cli.Bench;

/// <summary>What a two-process stream measurement pushes records through.</summary>
internal enum RingStreamKind
{
    /// <summary>A bare ring: RingWriter in the peer, RingReader in the bench, nothing on top (the baseline).</summary>
    Ring,

    /// <summary>A shared channel: the peer's ChannelEndpoint sends up, the bench's receives (the same ring, with the channel on top).</summary>
    Channel,
}
