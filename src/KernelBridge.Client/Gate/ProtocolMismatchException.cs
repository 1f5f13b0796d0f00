namespace KernelBridge.Client.Gate;

/// <summary>Client and kernel speak different protocol versions; restart the kernel with this build.</summary>
public sealed class ProtocolMismatchException(uint clientVersion, uint kernelVersion, int kernelProcessId)
    : Exception($"protocol version mismatch: this client speaks version {clientVersion}, the kernel (pid {kernelProcessId}) speaks version {kernelVersion}; stop it (`kbridge kernel stop`) so a matching kernel starts")
{
    public uint ClientVersion { get; } = clientVersion;
    public uint KernelVersion { get; } = kernelVersion;
}
