using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.Scanner;

/// <summary>The scanner's state (one per kernel): its filter, its ports, the connected service, the policy and the counts.</summary>
internal sealed class ScannerState
{
    private FltPort? _clientPort;
    private long _scanned, _infected, _opensDenied, _writesDenied, _unscannedAllowed, _unscannedDenied, _timeouts, _closeScans;

    public FltFilter? Filter { get; set; }
    public FltPort? ServerPort { get; set; }
    public volatile ScannerPolicy Policy;

    /// <summary>The connected service's process (its own I/O is not scanned), null with none.</summary>
    private KernelObject? _scannerProcess;

    public string[] Extensions { get; private set; } = ScannerInterface.DefaultExtensions;

    public NtStatus Connect(FltPort clientPort, object? serverPortCookie, ReadOnlySpan<byte> connectionContext, out object? connectionPortCookie)
    {
        connectionPortCookie = null;
        Extensions = ScannerInterface.ParseExtensions(connectionContext);
        Volatile.Write(ref _scannerProcess, Ps.GetCurrentProcess());
        Volatile.Write(ref _clientPort, clientPort);
        return NtStatus.STATUS_SUCCESS;
    }

    public void Disconnect(object? connectionCookie) => CloseClient();

    public void CloseClient()
    {
        Volatile.Write(ref _scannerProcess, null);
        if (Filter is { } filter) Flt.CloseClientPort(filter, ref _clientPort);
    }

    public bool IsScanner(KernelObject? process) => process is not null && ReferenceEquals(process, Volatile.Read(ref _scannerProcess));

    public bool ShouldScan(string fileName)
    {
        var dot = fileName.LastIndexOf('.');
        if (dot < 0 || dot < fileName.LastIndexOf('\\')) return false;
        var extension = fileName.AsSpan(dot + 1);
        foreach (var candidate in Extensions)
            if (extension.Equals(candidate, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>
    /// Asks the service about <paramref name="content"/>: true if it is safe. With no service, or
    /// no verdict in time, the policy answers.
    /// </summary>
    public async ValueTask<bool> ScanAsync(ScanReason reason, ReadOnlyMemory<byte> content, long fileSize)
    {
        var port = Volatile.Read(ref _clientPort);
        if (port is null || Filter is null) return Unscanned();
        var message = new byte[ScannerInterface.NotificationSize + content.Length];
        var notification = new ScannerNotification(reason, (uint)content.Length, fileSize);
        MemoryMarshal.Write(message, in notification);
        content.Span.CopyTo(message.AsSpan(ScannerInterface.NotificationSize));
        var reply = new byte[ScannerInterface.ReplySize];
        var result = await Flt.SendMessageAsync(Filter, port, message, reply, ScannerInterface.ReplyTimeout).ConfigureAwait(false);
        if (!result.Status.IsSuccess || result.ReplyLength < ScannerInterface.ReplySize)
        {
            if (result.Status == NtStatus.STATUS_TIMEOUT) Interlocked.Increment(ref _timeouts);
            return Unscanned();
        }
        Interlocked.Increment(ref _scanned);
        var safe = MemoryMarshal.Read<ScannerReply>(reply).SafeToOpen != 0;
        if (!safe) Interlocked.Increment(ref _infected);
        return safe;
    }

    private bool Unscanned()
    {
        if (Policy == ScannerPolicy.DenyWhenUnscanned)
        {
            Interlocked.Increment(ref _unscannedDenied);
            return false;
        }
        Interlocked.Increment(ref _unscannedAllowed);
        return true;
    }

    public void OpenDenied() => Interlocked.Increment(ref _opensDenied);
    public void WriteDenied() => Interlocked.Increment(ref _writesDenied);
    public void CloseScanned() => Interlocked.Increment(ref _closeScans);

    public ScannerStatistics Statistics() => new(Volatile.Read(ref _scanned), Volatile.Read(ref _infected), Volatile.Read(ref _opensDenied),
        Volatile.Read(ref _writesDenied), Volatile.Read(ref _unscannedAllowed), Volatile.Read(ref _unscannedDenied), Volatile.Read(ref _timeouts),
        Volatile.Read(ref _closeScans), Volatile.Read(ref _clientPort) is null ? 0 : 1, Policy);
}
