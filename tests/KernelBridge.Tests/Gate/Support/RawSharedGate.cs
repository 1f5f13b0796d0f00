using System.Net.Sockets;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Rings;
using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using Microsoft.Win32.SafeHandles;

namespace KernelBridge.Tests.Gate.Support;

/// <summary>
/// A client that asks for the shared-memory gate by hand and then holds its syscall area raw: a
/// test can submit well-formed calls through the rings, or write whatever it likes into them
/// (garbage, impossible indices and lengths, half-written records) and see what the kernel does.
/// </summary>
internal sealed unsafe class RawSharedGate : IDisposable
{
    private uint _sequence;

    private RawSharedGate(RawGate gate, SharedMemory area, HelloReply hello)
    {
        Gate = gate;
        Area = area;
        Hello = hello;
        RingWriter.TryAttach(area.Pointer + SyscallAreaLayout.SubmissionOffset, hello.SubmissionRingLength, FutexDoorbell.Instance, out var submissions);
        RingReader.TryAttach(area.Pointer + SyscallAreaLayout.CompletionOffset(hello.SubmissionRingLength), hello.CompletionRingLength, FutexDoorbell.Instance,
            out var completions);
        Submissions = submissions ?? throw new InvalidDataException("the submission ring does not attach");
        Completions = completions ?? throw new InvalidDataException("the completion ring does not attach");
    }

    public RawGate Gate { get; }

    public SharedMemory Area { get; }

    public HelloReply Hello { get; }

    public RingWriter Submissions { get; }

    public RingReader Completions { get; }

    /// <summary>The submission ring's header, as the kernel reads it.</summary>
    public RingHeader* SubmissionHeader => (RingHeader*)(Area.Pointer + SyscallAreaLayout.SubmissionOffset);

    /// <summary>The submission ring's data area (records start here).</summary>
    public byte* SubmissionData => Area.Pointer + SyscallAreaLayout.SubmissionOffset + RingLayout.HeaderLength;

    public static RawSharedGate Connect(string instance)
    {
        var gate = RawGate.Connect(instance);
        try
        {
            gate.Send(RawGate.Frame(FrameKind.Hello, 0, 0, 0, new HelloRequest(WireProtocol.Magic, WireProtocol.Version, GateFeatures.SharedMemory)));
            gate.Socket.ReceiveTimeout = (int)RawGate.DefaultTimeout.TotalMilliseconds;
            var frame = new byte[FrameHeader.Size + Marshal.SizeOf<HelloReply>()];
            Span<SafeFileHandle?> descriptors = [null];
            var read = Libc.ReceiveWithDescriptors(gate.Socket.SafeHandle, frame, descriptors, out var count, out var errno);
            if (read < 0) throw new InvalidDataException($"recvmsg failed: errno {errno}");
            while (read < frame.Length)
            {
                var more = gate.Socket.Receive(frame.AsSpan(read), SocketFlags.None);
                if (more == 0) throw new InvalidDataException("the kernel closed the connection during the handshake");
                read += more;
            }
            var hello = MemoryMarshal.Read<HelloReply>(frame.AsSpan(FrameHeader.Size));
            if (count == 0 || (hello.Features & GateFeatures.SharedMemory) == 0)
                throw new InvalidDataException($"the kernel did not grant the shared-memory gate (features {hello.Features})");
            var area = SharedMemory.TryMap(descriptors[0]!, SyscallAreaLayout.MaxAreaLength, out var error)
                ?? throw new InvalidDataException($"the syscall area does not map: {error}");
            return new RawSharedGate(gate, area, hello);
        }
        catch
        {
            gate.Dispose();
            throw;
        }
    }

    /// <summary>Submits one well-formed call through the ring and waits (bounded) for its Return in the completion ring.</summary>
    public RawFrame Call<T>(ushort number, in T request, ReadOnlySpan<byte> data = default) where T : unmanaged
    {
        var sequence = ++_sequence;
        Submit(RawGate.Frame(FrameKind.Call, number, sequence, Environment.CurrentManagedThreadId, in request, data));
        var answer = NextCompletion(RawGate.DefaultTimeout) ?? throw new TimeoutException($"no answer to call {number} in the completion ring");
        Assert.Equal(FrameKind.Return, answer.Header.Kind);
        Assert.Equal(sequence, answer.Header.Sequence);
        return answer;
    }

    /// <summary>Submits a call through the ring and does not wait for its answer; its sequence.</summary>
    public uint Post<T>(ushort number, in T request, ReadOnlySpan<byte> data = default) where T : unmanaged
    {
        var sequence = ++_sequence;
        Submit(RawGate.Frame(FrameKind.Call, number, sequence, Environment.CurrentManagedThreadId, in request, data));
        return sequence;
    }

    /// <summary>NtCreateFile (FILE_OPEN) of an NT path through the ring; asserts it worked and returns the handle.</summary>
    public long OpenFile(string ntPath)
    {
        var name = System.Text.Encoding.Unicode.GetBytes(ntPath);
        var request = new NtCreateFileRequest(0, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE | AccessMask.SYNCHRONIZE,
            (uint)ObjectAttributeFlags.OBJ_CASE_INSENSITIVE, 0, (uint)(ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE),
            (uint)CreateDisposition.FILE_OPEN, 0, (uint)name.Length, 0);
        var frame = Call((ushort)Syscall.NtCreateFile, request, name);
        Assert.Equal(NtStatus.STATUS_SUCCESS, (NtStatus)frame.Header.Value);
        return frame.Read<NtCreateFileReply>().Handle;
    }

    /// <summary>Writes <paramref name="frame"/> as a Frame record (any bytes at all) and rings the doorbell.</summary>
    public void Submit(ReadOnlySpan<byte> frame, int type = (int)GateRecord.Frame)
    {
        Assert.Equal(RingStatus.Ok, Submissions.TryWrite(type, frame));
        Submissions.Notify();
    }

    /// <summary>The next record of the completion ring as a frame, or null if none came in time.</summary>
    public RawFrame? NextCompletion(TimeSpan timeout)
    {
        var status = Completions.WaitForData(timeout);
        if (status != RingStatus.Ok) return null;
        if (Completions.TryRead(out var record) != RingStatus.Ok) return null;
        var bytes = record.Payload.ToArray();
        Completions.Release();
        var header = MemoryMarshal.Read<FrameHeader>(bytes);
        return new RawFrame(header, bytes[FrameHeader.Size..]);
    }

    /// <summary>Wakes the kernel's poller as a producer would, whatever the ring holds.</summary>
    public void RingDoorbell()
    {
        Interlocked.Increment(ref SubmissionHeader->DataSignal);
        FutexDoorbell.Instance.Wake(&SubmissionHeader->DataSignal, int.MaxValue);
    }

    public void Dispose()
    {
        Gate.Dispose();
        Area.Dispose();
    }
}
