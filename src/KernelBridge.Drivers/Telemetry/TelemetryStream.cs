using System.Diagnostics;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Rings;
using KernelBridge.Ddk;

namespace KernelBridge.Drivers.Telemetry;

/// <summary>
/// One open file's stream: a channel mapped into the caller and a producer thread that fills it
/// (or echoes what the caller sends up). Stopped, joined and released at IRP_MJ_CLEANUP at the
/// latest, before the channel goes: the thread never outlives the memory it writes.
/// </summary>
internal sealed class TelemetryStream(SharedChannel channel, ulong userAddress, TelemetryStart request)
{
    private static readonly TimeSpan SendPatience = TimeSpan.FromMilliseconds(200);
    private Thread? _producer;
    private volatile bool _stopping;
    private long _sent;
    private long _dropped;

    public SharedChannel Channel { get; } = channel;
    public ulong UserAddress { get; } = userAddress;

    public void Start()
    {
        _producer = new Thread(request.Count < 0 ? Echo : Produce) { IsBackground = true, Name = "Telemetry producer" };
        _producer.Start();
    }

    /// <summary>Stops the producer (its waits end at once) and waits for it; what it sent and dropped.</summary>
    public TelemetryStats Stop()
    {
        _stopping = true;
        Channel.Sender.Cancel();
        Channel.Receiver.Cancel();
        _producer?.Join();
        return new TelemetryStats(Interlocked.Read(ref _sent), Interlocked.Read(ref _dropped));
    }

    /// <summary>Small records are assembled in a buffer of the driver's and sent (one copy of a few bytes); large ones are written in place.</summary>
    private const int CopyLimit = 4096;

    /// <summary>The clock is read once per this many records: a read costs about as much as a small record.</summary>
    private const int RecordsPerClockRead = 64;

    /// <summary>Records made per call of <see cref="ProduceSome"/>: the loop lives in a method that is called again and again, so it runs fully optimized.</summary>
    private const int RecordsPerBatch = 4096;

    private void Produce()
    {
        try
        {
            var length = Math.Max(request.RecordLength, Marshal.SizeOf<TelemetryRecord>());
            var staging = length <= CopyLimit ? new byte[length] : null;
            long sequence = 0;
            while (!_stopping && (request.Count == 0 || sequence < request.Count))
            {
                var limit = request.Count == 0 ? sequence + RecordsPerBatch : Math.Min(request.Count, sequence + RecordsPerBatch);
                if (!ProduceSome(ref sequence, limit, length, staging)) return;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // A driver thread must not take the kernel down; the stream just ends.
        }
    }

    /// <summary>Sends records up to <paramref name="limit"/>; false when the stream is over (cancelled, or a broken ring).</summary>
    private bool ProduceSome(ref long sequence, long limit, int length, byte[]? staging)
    {
        var sender = Channel.Sender;
        var timestamp = Stopwatch.GetTimestamp();
        while (sequence < limit)
        {
            if (sequence % RecordsPerClockRead == 0) timestamp = Stopwatch.GetTimestamp();
            RingStatus status;
            if (staging is not null)
            {
                staging.AsSpan(16).Fill((byte)sequence);
                MemoryMarshal.Write(staging, new TelemetryRecord(sequence, timestamp));
                status = sender.Send(staging, SendPatience);
            }
            else
            {
                status = sender.Reserve(length, SendPatience, out var reservation);
                if (status == RingStatus.Ok)
                {
                    var payload = reservation.Payload;
                    payload[16..].Fill((byte)sequence);
                    MemoryMarshal.Write(payload, new TelemetryRecord(sequence, timestamp));
                    reservation.Commit();
                }
            }
            if (status == RingStatus.Ok) _sent++;
            // The Drop policy: this record is lost (and counted in the channel's header).
            else if (status == RingStatus.Full) _dropped++;
            else if (status == RingStatus.TimedOut) return !_stopping;
            else return false; // Cancelled (stopping) or a broken ring: the stream is over.
            sequence++;
        }
        return true;
    }

    private void Echo()
    {
        var buffer = new byte[Channel.Receiver.MaxRecordLength];
        while (!_stopping)
        {
            var status = Channel.Receiver.Receive(buffer, out var length, SendPatience);
            // Stalled: the user holds a reservation open (descheduled, stopped, or slow). Only its death
            // ends the stream (IRP_MJ_CLEANUP stops it); a live user must find its echo when it commits.
            if (status is RingStatus.TimedOut or RingStatus.Stalled) continue;
            if (status != RingStatus.Ok) return;
            if (Channel.Sender.Send(buffer.AsSpan(0, length), SendPatience) == RingStatus.Ok) Interlocked.Increment(ref _sent);
            else Interlocked.Increment(ref _dropped);
        }
    }
}
