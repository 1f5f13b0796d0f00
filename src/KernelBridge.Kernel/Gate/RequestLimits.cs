using System.Runtime.CompilerServices;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Kernel.Gate;

/// <summary>
/// The largest Call frame each system service may receive, checked as soon as a frame's header is
/// in, before its body is read: a service that carries no bulk data never makes the kernel wait
/// for (or buffer) megabytes. A frame over its service's limit is a protocol violation.
/// </summary>
/// <remarks>
/// Every service gets <see cref="DefaultMaxFrameLength"/> unless it is given its own limit with
/// <see cref="Allow"/>. <see cref="Standard"/> is today's table, written by hand; the protocol
/// declarations can feed <see cref="Allow"/> instead once they say which services carry bulk data.
/// </remarks>
internal sealed class RequestLimits
{
    /// <summary>
    /// Enough for any service without bulk data: a fixed part of up to 4 KiB and two names of the
    /// longest UNICODE_STRING (64 KiB each), which also covers 64 handles to wait on.
    /// </summary>
    public const int DefaultMaxFrameLength = FrameHeader.Size + 4 * 1024 + 2 * 64 * 1024;

    private int[] _limits = [];

    /// <summary>Lets <paramref name="number"/> carry a fixed part of <paramref name="fixedPartLength"/> bytes and up to <paramref name="maxDataLength"/> bytes of data.</summary>
    public RequestLimits Allow(Syscall number, int fixedPartLength, long maxDataLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fixedPartLength);
        ArgumentOutOfRangeException.ThrowIfNegative(maxDataLength);
        var index = (int)number;
        if (index >= _limits.Length)
        {
            var grown = new int[index + 1];
            _limits.CopyTo(grown, 0);
            _limits = grown;
        }
        _limits[index] = (int)Math.Min(WireProtocol.MaxFrameLength, FrameHeader.Size + fixedPartLength + maxDataLength);
        return this;
    }

    /// <summary>The largest Call frame service <paramref name="number"/> accepts, header included.</summary>
    public int MaxFrameLength(ushort number) =>
        number < _limits.Length && _limits[number] != 0 ? _limits[number] : DefaultMaxFrameLength;

    /// <summary>
    /// Today's services: the transfers (read, write, device control, set information) take the
    /// largest buffer an I/O request may carry, as does NtLoadDriver; the rest the default.
    /// NtDeviceIoControlFile may carry its input and, for the direct and neither methods, the
    /// output buffer as it stands: up to two such buffers, within the largest frame.
    /// </summary>
    public static RequestLimits Standard() => new RequestLimits()
        .Allow(Syscall.NtReadFile, Unsafe.SizeOf<NtReadFileRequest>(), WireProtocol.MaxTransferLength)
        .Allow(Syscall.NtWriteFile, Unsafe.SizeOf<NtWriteFileRequest>(), WireProtocol.MaxTransferLength)
        .Allow(Syscall.NtDeviceIoControlFile, Unsafe.SizeOf<NtDeviceIoControlFileRequest>(), 2L * WireProtocol.MaxTransferLength)
        .Allow(Syscall.NtSetInformationFile, Unsafe.SizeOf<NtSetInformationFileRequest>(), WireProtocol.MaxTransferLength)
        .Allow(Syscall.NtLoadDriver, Unsafe.SizeOf<NtLoadDriverRequest>(), WireProtocol.MaxTransferLength);
}
