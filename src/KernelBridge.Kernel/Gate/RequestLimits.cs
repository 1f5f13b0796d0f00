using KernelBridge.Abi.Protocol;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// The largest Call frame each system service may receive, checked as soon as a frame's header is
/// in, before its body is read: a service that carries no bulk data never makes the kernel wait
/// for (or buffer) megabytes. A frame over its service's limit is a protocol violation. The limit
/// comes from the service's declaration (its fixed part and the declared bound of each data item,
/// <see cref="SyscallTable.MaxRequestLength"/>), so a new service needs no entry here.
/// </summary>
internal static class RequestLimits
{
    /// <summary>An unknown service number is answered STATUS_INVALID_SYSTEM_SERVICE; there is no reason to read much of it.</summary>
    public const int UnknownServiceMaxFrameLength = FrameHeader.Size + 4 * 1024;

    /// <summary>The largest Call frame service <paramref name="number"/> accepts, header included.</summary>
    public static int MaxFrameLength(ushort number)
    {
        var request = SyscallTable.MaxRequestLength(number);
        return request < 0 ? UnknownServiceMaxFrameLength : (int)Math.Min(WireProtocol.MaxFrameLength, FrameHeader.Size + request);
    }
}
