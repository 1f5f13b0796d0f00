using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Scanner;

namespace KernelBridge.Samples.Scanner;

/// <summary>
/// The scanner service, as Windows-driver-samples' scanuser does it: connect to \ScannerPort, tie
/// the port to an I/O completion port, keep several overlapped FilterGetMessage calls outstanding,
/// and let worker threads take completed ones, scan the content, FilterReplyMessage the verdict and
/// ask for the next message with the same buffer.
/// </summary>
internal sealed unsafe class ScannerService(ScanPatterns patterns, TextWriter log)
{
    /// <summary>FILTER_MESSAGE_HEADER, SCANNER_NOTIFICATION and the most content the filter sends.</summary>
    private static readonly int MessageSize = FilterPortLimits.HeaderSize + ScannerInterface.NotificationSize + ScannerInterface.ReadBufferSize;
    private static readonly int ReplySize = FilterPortLimits.HeaderSize + ScannerInterface.ReplySize;
    private static readonly int PendingHResult = FltLib.HRESULT_FROM_WIN32(Win32Error.ERROR_IO_PENDING);

    private nint _port;
    private nint _completion;
    private long _handled;
    private long _infected;

    public long Handled => Interlocked.Read(ref _handled);
    public long Infected => Interlocked.Read(ref _infected);

    /// <summary>FilterConnectCommunicationPort, with the extensions to scan as the connection context; the HRESULT.</summary>
    public int Connect(IReadOnlyCollection<string> extensions)
    {
        var context = extensions.Count == 0 ? [] : ScannerInterface.ConnectionContext(extensions);
        var hr = FltLib.FilterConnectCommunicationPort(ScannerInterface.PortName, 0, context, (ushort)context.Length, 0, out _port);
        if (hr != FltLib.S_OK) return hr;
        _completion = Kernel32.CreateIoCompletionPort(_port, 0, 0, 0);
        return _completion == 0 ? FltLib.HRESULT_FROM_WIN32(Kernel32.GetLastError()) : FltLib.S_OK;
    }

    /// <summary>Serves until the port or the completion port is closed (<see cref="Stop"/>, or the kernel going away).</summary>
    public void Run(int threads, int requestsPerThread)
    {
        var count = threads * requestsPerThread;
        var overlapped = (OVERLAPPED*)NativeMemory.AllocZeroed((nuint)(count * sizeof(OVERLAPPED)));
        var buffers = (byte*)NativeMemory.AllocZeroed((nuint)(count * MessageSize));
        try
        {
            for (var i = 0; i < count; i++)
            {
                var hr = FltLib.FilterGetMessage(_port, (FILTER_MESSAGE_HEADER*)(buffers + i * MessageSize), (uint)MessageSize, overlapped + i);
                // Pending, or done at once (a message was waiting): either way its packet comes through the completion port.
                if (hr != PendingHResult && hr != FltLib.S_OK) throw new InvalidOperationException($"FilterGetMessage gave 0x{hr:X8}");
            }
            var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() => Work(overlapped, buffers)) { IsBackground = true }).ToList();
            workers.ForEach(w => w.Start());
            workers.ForEach(w => w.Join());
        }
        finally
        {
            // Every worker has seen the port end, so no request the kernel could still complete into these buffers is left.
            NativeMemory.Free(buffers);
            NativeMemory.Free(overlapped);
        }
    }

    /// <summary>Disconnects: outstanding FilterGetMessage calls end, and so do the workers.</summary>
    public void Stop()
    {
        var port = Interlocked.Exchange(ref _port, 0);
        if (port != 0) Kernel32.CloseHandle(port);
        var completion = Interlocked.Exchange(ref _completion, 0);
        if (completion != 0) Kernel32.CloseHandle(completion);
    }

    private void Work(OVERLAPPED* overlappedBase, byte* buffers)
    {
        var reply = stackalloc byte[ReplySize];
        while (true)
        {
            uint bytes;
            nuint key;
            OVERLAPPED* done;
            var completion = Volatile.Read(ref _completion);
            if (completion == 0) return;
            var ok = Kernel32.GetQueuedCompletionStatus(completion, &bytes, &key, &done, uint.MaxValue);
            if (done is null) return; // the completion port closed
            if (!ok)
            {
                log.WriteLine($"FilterGetMessage ended: error {Kernel32.GetLastError()}; the port is gone");
                Stop();
                return;
            }
            var message = buffers + (done - overlappedBase) * MessageSize;
            var header = (FILTER_MESSAGE_HEADER*)message;
            var notification = *(ScannerNotification*)(message + FilterPortLimits.HeaderSize);
            var length = (int)Math.Min(notification.BytesToScan, (uint)ScannerInterface.ReadBufferSize);
            var content = new ReadOnlySpan<byte>(message + FilterPortLimits.HeaderSize + ScannerInterface.NotificationSize, length);
            var found = patterns.Find(content);

            *(FILTER_REPLY_HEADER*)reply = new FILTER_REPLY_HEADER { Status = 0, MessageId = header->MessageId };
            *(ScannerReply*)(reply + FilterPortLimits.HeaderSize) = new ScannerReply(found is null ? 1u : 0u);
            var hr = FltLib.FilterReplyMessage(Volatile.Read(ref _port), (FILTER_REPLY_HEADER*)reply, (uint)ReplySize);
            Interlocked.Increment(ref _handled);
            if (found is not null) Interlocked.Increment(ref _infected);
            log.WriteLine($"{notification.Reason}: {length} of {notification.FileSize} bytes: {(found is null ? "clean" : $"INFECTED ({found})")}"
                + (hr == FltLib.S_OK ? "" : $" (reply: 0x{hr:X8})"));

            var port = Volatile.Read(ref _port);
            if (port == 0) return;
            hr = FltLib.FilterGetMessage(port, header, (uint)MessageSize, done);
            if (hr != PendingHResult && hr != FltLib.S_OK)
            {
                log.WriteLine($"FilterGetMessage gave 0x{hr:X8}; stopping");
                Stop();
                return;
            }
        }
    }
}
