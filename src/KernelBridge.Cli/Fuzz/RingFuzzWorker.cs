using System.Net.Sockets;
using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Cli.Fuzz;

/// <summary>
/// A fuzz worker on the shared-memory gate: it negotiates a syscall area, submits calls through
/// its submission ring (valid, mutated and hostile frames from the <see cref="FrameForge"/>), then
/// scribbles on the area — garbage records, heads and tails moved backwards, past the end or
/// anywhere, record lengths beyond the area, unknown record types, half-written records, the ring
/// headers and the control block overwritten — rings the doorbell and sees the kernel hang up.
/// </summary>
internal sealed unsafe class RingFuzzWorker(string socketPath, int seed, FuzzCounters counters)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    private readonly FrameForge _forge = new(seed);
    private readonly Random _random = new(seed ^ 0x0815);
    private readonly byte[] _sink = new byte[64 * 1024];

    public void Run(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using var socket = FuzzSockets.Connect(socketPath, counters, Patience, stop);
            if (socket is null) continue;
            using var area = Negotiate(socket, out var refused);
            if (area is null)
            {
                // A wrong Hello: the kernel refused or hung up. (A kernel without the shared-memory gate gives the socket gate: not a hang-up.)
                if (refused) Interlocked.Increment(ref counters.KernelHangUps);
                continue;
            }
            Interlocked.Increment(ref counters.RingSessions);
            Abuse(socket, area);
        }
    }

    private SharedMemory? Negotiate(Socket socket, out bool refused)
    {
        var hello = _forge.Hello(GateFeatures.SharedMemory, out var proper);
        refused = true;
        try
        {
            socket.Send(hello);
            if (!proper) return null;
            var frame = new byte[FrameHeader.Size + Marshal.SizeOf<HelloReply>()];
            Span<SafeFileHandle?> descriptors = [null];
            var read = Libc.ReceiveWithDescriptors(socket.SafeHandle, frame, descriptors, out var count, out _);
            if (read <= 0) return null;
            while (read < frame.Length)
            {
                var more = socket.Receive(frame.AsSpan(read));
                if (more == 0) return null;
                read += more;
            }
            using var descriptor = descriptors[0];
            var reply = MemoryMarshal.Read<HelloReply>(frame.AsSpan(FrameHeader.Size));
            refused = reply.Status != 0;
            if (count == 0 || descriptor is null || (reply.Features & GateFeatures.SharedMemory) == 0) return null;
            var area = SharedMemory.TryMap(descriptor, SyscallAreaLayout.MaxAreaLength, out _);
            if (area is not null) _rings = (reply.SubmissionRingLength, reply.CompletionRingLength);
            return area;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private (int Submission, int Completion) _rings;

    private void Abuse(Socket socket, SharedMemory area)
    {
        var submission = area.Pointer + SyscallAreaLayout.SubmissionOffset;
        if (RingWriter.TryAttach(submission, _rings.Submission, FutexDoorbell.Instance, out var writer) != RingStatus.Ok || writer is null) return;
        // Some calls first, as a client would make them (some of them hostile frames).
        var calls = _random.Next(8);
        for (var i = 0; i < calls; i++)
        {
            if (writer.TryWrite((int)GateRecord.Frame, _forge.Single()) != RingStatus.Ok) break;
            writer.Notify();
            Interlocked.Increment(ref counters.Executions);
        }
        Corrupt(area, submission, writer);
        Interlocked.Increment(ref counters.RingsCorrupted);
        Interlocked.Increment(ref counters.Executions);
        var header = (RingHeader*)submission;
        Interlocked.Increment(ref header->DataSignal);
        FutexDoorbell.Instance.Wake(&header->DataSignal, int.MaxValue);
        // The kernel should hang up on a broken area; some scribbles are harmless (a record not yet committed), so leave after a while.
        if (WaitForHangUp(socket)) Interlocked.Increment(ref counters.KernelHangUps);
    }

    private void Corrupt(SharedMemory area, byte* submission, RingWriter writer)
    {
        var header = (RingHeader*)submission;
        var capacity = Math.Max(1, header->Capacity);
        var tail = Volatile.Read(ref header->Tail);
        var slot = submission + RingLayout.HeaderLength + (tail & (capacity - 1));
        var completion = area.Pointer + SyscallAreaLayout.CompletionOffset(_rings.Submission);
        switch (_random.Next(11))
        {
            case 0:
                Garbage(slot, Math.Min(4096, (int)(capacity - (tail & (capacity - 1)))));
                Volatile.Write(ref header->Tail, tail + 4096);
                break;
            case 1:
                Volatile.Write(ref header->Tail, tail - 8 * (1 + _random.Next(64)));
                break;
            case 2:
                Volatile.Write(ref header->Tail, tail + capacity + 8 * _random.Next(1024));
                break;
            case 3:
                Volatile.Write(ref header->Tail, _random.NextInt64());
                break;
            case 4:
                ((RingRecordHeader*)slot)->Type = (int)GateRecord.Frame;
                Volatile.Write(ref header->Tail, tail + 64);
                Volatile.Write(ref ((RingRecordHeader*)slot)->Length, _random.Next(2) == 0 ? int.MaxValue : 64 * 1024 * 1024);
                break;
            case 5:
                writer.TryWrite(_random.Next(3, 1000), _forge.Single());
                break;
            case 6:
                writer.TryWrite((int)GateRecord.FrameOnSocket, _forge.Single());
                break;
            case 7:
                // Reserved and never committed: the kernel waits for it without holding anyone else up.
                if (writer.TryReserve((int)GateRecord.Frame, 64, out var reservation) == RingStatus.Ok) reservation.Payload.Fill(0xEE);
                break;
            case 8:
                Garbage(submission, RingLayout.HeaderLength);
                break;
            case 9:
                Volatile.Write(ref ((RingHeader*)completion)->Head, _random.NextInt64());
                Garbage(completion + 128, 8);
                break;
            default:
                Garbage(area.Pointer, SyscallAreaLayout.ControlLength);
                break;
        }
    }

    private void Garbage(byte* at, int length) => _random.NextBytes(new Span<byte>(at, Math.Max(0, length)));

    private bool WaitForHangUp(Socket socket)
    {
        try
        {
            socket.ReceiveTimeout = 300;
            while (true)
                if (socket.Receive(_sink) == 0) return true;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode != SocketError.TimedOut && e.SocketErrorCode != SocketError.WouldBlock;
        }
    }
}
