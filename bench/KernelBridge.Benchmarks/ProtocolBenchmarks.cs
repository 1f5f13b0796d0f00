using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Benchmarks;

/// <summary>
/// A 64-byte buffered NtDeviceIoControlFile request as the gate carries it: encoded as the client
/// writes it into a ring record (frame header, fixed part, input), and decoded as the kernel's
/// generated dispatch reads it (header, fixed part, the declared data checked against its limits).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class ProtocolBenchmarks
{
    private const int IoctlBytes = 64;

    /// <summary>CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS): only the input travels.</summary>
    private const uint BufferedIoctl = 0x0022_2000;

    private static readonly int FrameLength = FrameHeader.Size + Unsafe.SizeOf<NtDeviceIoControlFileRequest>() + IoctlBytes;

    private readonly byte[] _input = new byte[IoctlBytes];
    private readonly byte[] _record = new byte[FrameLength];
    private readonly byte[] _frame = new byte[FrameLength];
    private uint _sequence;

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_input);
        Encode();
        _record.CopyTo(_frame, 0);
    }

    /// <summary>The client's side: the request with its data lengths set, written behind its header (SharedGate.Submit's copy).</summary>
    [Benchmark]
    public int Encode()
    {
        var request = new NtDeviceIoControlFileRequest(Handle: 0x44, Event: 0, ApcRoutine: 0, ApcContext: 0, IoStatusBlock: 0x7f00_1000,
            InputBuffer: 0x7f00_2000, OutputBuffer: 0x7f00_3000, IoControlCode: BufferedIoctl, InputBufferLength: IoctlBytes,
            OutputBufferLength: IoctlBytes, InputDataBytes: 0, OutputDataBytes: 0, Flags: IoRequestFlags.None);
        var data = new NtDeviceIoControlFileRequest.Data(_input, default);
        request = request.WithDataLengths(in data);
        var record = _record.AsSpan();
        MemoryMarshal.Write(record, new FrameHeader((uint)FrameLength, FrameKind.Call, (ushort)NtDeviceIoControlFileRequest.Number, ++_sequence, 1234));
        MemoryMarshal.Write(record[FrameHeader.Size..], in request);
        var offset = FrameHeader.Size + Unsafe.SizeOf<NtDeviceIoControlFileRequest>();
        data.Part1.CopyTo(record[offset..]);
        data.Part2.CopyTo(record[(offset + data.Part1.Length)..]);
        return offset + data.Part1.Length + data.Part2.Length;
    }

    /// <summary>The kernel's side: the header, the fixed part and the data, each checked, then the IOCTL's own rule for what travels.</summary>
    [Benchmark]
    public int Decode()
    {
        ReadOnlySpan<byte> frame = _frame;
        var header = MemoryMarshal.Read<FrameHeader>(frame);
        var payload = frame[FrameHeader.Size..(int)header.Length];
        var request = WireReader.ReadMessage<NtDeviceIoControlFileRequest>(payload, nameof(Syscall.NtDeviceIoControlFile));
        var data = NtDeviceIoControlFileRequest.ReadData(in request, payload[Unsafe.SizeOf<NtDeviceIoControlFileRequest>()..]);
        if (!request.DataFollowsRules) throw new InvalidOperationException("the encoded request breaks its own rules");
        return data.Input.Length + (int)request.IoControlCode;
    }
}
