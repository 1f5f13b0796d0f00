using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Cli.Fuzz;

/// <summary>
/// Makes what the fuzz workers send: valid calls of every allowed service (all-zero requests and a
/// few real sessions' calls), those calls mutated, and the classic attacks — wrong and huge
/// lengths, unknown services, truncated data, data lengths that lie, frames of the wrong kind,
/// garbage handles, huge timeouts, plain garbage — and Hellos of the wrong version or magic.
/// Deterministic for a seed. Handles 4, 8, 12 are a fresh client's first ones.
/// </summary>
internal sealed class FrameForge
{
    private static readonly long[] Handles = [0, 4, 8, 12, 16, -1, -2, 3, 0x7FFF_FFFF_FFFF_FFFF, long.MinValue, 0x1_0000_0004, 65536 * 4];
    private static readonly uint[] Lengths = [0, 1, 15, 16, 17, 0xFFFF, 0x10000, 0x7FFF_FFFF, 0x8000_0000, uint.MaxValue, (uint)WireProtocol.MaxFrameLength, (uint)WireProtocol.MaxFrameLength + 1];
    private static readonly long[] Timeouts = [long.MinValue, long.MaxValue, -1, 0, 1, -10_000_000L * 3600, 10_000_000L * 86400 * 365 * 400];

    private readonly Random _random;
    private readonly List<(ushort Code, byte[] Body)> _templates = [];
    private uint _sequence;

    public FrameForge(int seed)
    {
        _random = new Random(seed);
        foreach (var service in ServiceFilter.Allowed) _templates.Add(((ushort)service, new byte[SyscallTable.RequestSize((ushort)service)]));
        AddSessionCalls();
    }

    /// <summary>The Hello a worker opens with: almost always a proper one, sometimes of another version, magic or size.</summary>
    public byte[] Hello(GateFeatures features, out bool proper)
    {
        proper = _random.Next(100) >= 6;
        var hello = new HelloRequest(WireProtocol.Magic, WireProtocol.Version, features);
        if (proper) return Frame(FrameKind.Hello, 0, 0, 0, Bytes(hello));
        return _random.Next(4) switch
        {
            0 => Frame(FrameKind.Hello, 0, 0, 0, Bytes(hello with { ProtocolVersion = (uint)_random.Next(0, 20) })),
            1 => Frame(FrameKind.Hello, 0, 0, 0, Bytes(hello with { Magic = (uint)_random.Next() })),
            2 => Frame(FrameKind.Hello, 0, 0, 0, Bytes(hello).AsSpan(0, 1 + _random.Next(27))),
            _ => Frame(FrameKind.Hello, 0, 0, 0, [.. Bytes(hello), .. RandomBytes(1 + _random.Next(200))]),
        };
    }

    /// <summary>A burst of 1 to 12 frames, back to back, cleared of forbidden calls.</summary>
    public byte[] Burst(out int count)
    {
        var frames = new List<byte>();
        count = 1 + _random.Next(12);
        for (var i = 0; i < count; i++) frames.AddRange(Next());
        var burst = frames.ToArray();
        ServiceFilter.Sanitize(burst);
        return burst;
    }

    /// <summary>One frame (or what passes for one), cleared of forbidden calls.</summary>
    public byte[] Single()
    {
        var frame = Next();
        ServiceFilter.Sanitize(frame);
        return frame;
    }

    private byte[] Next()
    {
        var (code, template) = _templates[_random.Next(_templates.Count)];
        var body = (byte[])template.Clone();
        var roll = _random.Next(100);
        switch (roll)
        {
            case < 30:
                return Call(code, body);
            case < 55:
                Mutate(body);
                return Call(code, body);
            case < 63:
                if (body.Length >= 8) MemoryMarshal.Write(body, Handles[_random.Next(Handles.Length)]);
                return Call(code, body);
            case < 68:
                return HugeTimeout();
            case < 73:
                return Call(UnknownService(), body);
            case < 78:
            {
                var frame = Call(code, body);
                var wrong = (int)frame.Length + _random.Next(-8, 9);
                MemoryMarshal.Write(frame, (uint)Math.Max(0, wrong));
                return frame;
            }
            case < 81:
            {
                var frame = Call(code, body);
                MemoryMarshal.Write(frame, Lengths[_random.Next(Lengths.Length)]);
                return frame;
            }
            case < 86:
            {
                // Truncated: cut inside the request, the header told (a short request) or not (the rest never comes).
                var frame = Call(code, body);
                var cut = _random.Next(1, frame.Length);
                var truncated = frame[..cut];
                if (cut >= FrameHeader.Size && _random.Next(2) == 0) MemoryMarshal.Write(truncated, (uint)cut);
                return truncated;
            }
            case < 90:
                // A data length that lies: some 4-byte field of the request set to a large value.
                if (body.Length >= 4) MemoryMarshal.Write(body.AsSpan(_random.Next(body.Length / 4) * 4), Lengths[_random.Next(Lengths.Length)]);
                return Call(code, body);
            case < 95:
            {
                var frame = Call(code, body);
                MemoryMarshal.Write(frame.AsSpan(4), (ushort)(_random.Next(3) switch { 0 => (int)FrameKind.Hello, 1 => (int)FrameKind.Return, _ => _random.Next(ushort.MaxValue) }));
                return frame;
            }
            default:
                return RandomBytes(1 + _random.Next(256));
        }
    }

    private byte[] HugeTimeout()
    {
        var timeout = Timeouts[_random.Next(Timeouts.Length)];
        var hasTimeout = (uint)_random.Next(2);
        return _random.Next(4) switch
        {
            0 => Call(Syscall.NtWaitForSingleObject, new NtWaitForSingleObjectRequest(Handles[_random.Next(Handles.Length)], timeout, (uint)_random.Next(2), hasTimeout)),
            1 => Call(Syscall.NtDelayExecution, new NtDelayExecutionRequest((uint)_random.Next(2), hasTimeout, timeout)),
            2 => Call(Syscall.NtRemoveIoCompletion, new NtRemoveIoCompletionRequest(4, 1, 0, hasTimeout, 0, timeout)),
            _ => Call(Syscall.NtWaitForMultipleObjects, new NtWaitForMultipleObjectsRequest(2, (uint)_random.Next(2), 0, hasTimeout, timeout, 2, 0), Longs(4, 8)),
        };
    }

    private ushort UnknownService()
    {
        while (true)
        {
            var number = (ushort)_random.Next(ushort.MaxValue + 1);
            if (SyscallTable.Name(number) is null) return number;
        }
    }

    private void Mutate(byte[] body)
    {
        if (body.Length == 0) return;
        var moves = 1 + _random.Next(4);
        for (var i = 0; i < moves; i++)
        {
            var at = _random.Next(body.Length);
            switch (_random.Next(3))
            {
                case 0: body[at] ^= (byte)(1 << _random.Next(8)); break;
                case 1: body[at] = (byte)_random.Next(256); break;
                default: body[at] = _random.Next(2) == 0 ? (byte)0 : (byte)0xFF; break;
            }
        }
    }

    private byte[] Call(ushort code, byte[] body) => Frame(FrameKind.Call, code, ++_sequence, 1 + _random.Next(8), body);

    private byte[] Call<T>(Syscall number, in T request, byte[]? data = null) where T : unmanaged =>
        Call((ushort)number, [.. Bytes(request), .. data ?? []]);

    private static byte[] Frame(FrameKind kind, ushort code, uint sequence, int thread, ReadOnlySpan<byte> body)
    {
        var frame = new byte[FrameHeader.Size + body.Length];
        MemoryMarshal.Write(frame, new FrameHeader((uint)frame.Length, kind, code, sequence, thread));
        body.CopyTo(frame.AsSpan(FrameHeader.Size));
        return frame;
    }

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Bytes<T>(in T value) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();

    private static byte[] Longs(params long[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>Calls of real sessions, with their data: mutations of these reach past the first checks.</summary>
    private void AddSessionCalls()
    {
        const uint AllAccess = 0x001F0003, ReadWrite = AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE | AccessMask.SYNCHRONIZE, CaseInsensitive = 0x40;
        void Add<T>(Syscall number, in T request, byte[]? data = null) where T : unmanaged => _templates.Add(((ushort)number, [.. Bytes(request), .. data ?? []]));
        var name = Encoding.Unicode.GetBytes(@"\BaseNamedObjects\kbridge-fuzz");
        var echo = Encoding.Unicode.GetBytes(@"\Device\Echo");
        var nul = Encoding.Unicode.GetBytes(@"\Device\Null");
        var device = Encoding.Unicode.GetBytes(@"\Device");
        var hello = "fuzz"u8.ToArray();
        Add(Syscall.NtCreateEvent, new NtCreateEventRequest(0, AllAccess, 0, 0, 0, 0, 0));
        Add(Syscall.NtCreateEvent, new NtCreateEventRequest(0, AllAccess, CaseInsensitive, 1, 1, (uint)name.Length, 0), name);
        Add(Syscall.NtOpenEvent, new NtOpenEventRequest(0, AllAccess, CaseInsensitive, (uint)name.Length, 0), name);
        Add(Syscall.NtSetEvent, new NtSetEventRequest(4));
        Add(Syscall.NtWaitForSingleObject, new NtWaitForSingleObjectRequest(4, -10_000, 0, 1));
        Add(Syscall.NtClose, new NtCloseRequest(4));
        Add(Syscall.NtCreateFile, new NtCreateFileRequest(0, ReadWrite, CaseInsensitive, 0, 3, 1, 0, (uint)echo.Length, 0), echo);
        Add(Syscall.NtCreateFile, new NtCreateFileRequest(0, ReadWrite, CaseInsensitive, 0, 3, 1, 0x20, (uint)nul.Length, 0), nul);
        Add(Syscall.NtDeviceIoControlFile, new NtDeviceIoControlFileRequest(4, 0, 0, 0, 0x1000, 0x2000, 0x3000, Drivers.Echo.EchoInterface.IOCTL_ECHO_BUFFERED.Value, (uint)hello.Length, 64,
            (uint)hello.Length, 0, IoRequestFlags.None), hello);
        Add(Syscall.NtWriteFile, new NtWriteFileRequest(4, 0, 0, 0, 0x1000, 0x2000, 0, (uint)hello.Length, 0, IoRequestFlags.HasByteOffset, (uint)hello.Length), hello);
        Add(Syscall.NtReadFile, new NtReadFileRequest(4, 0, 0, 0, 0x1000, 0x3000, 0, 64, 0, IoRequestFlags.HasByteOffset, 0));
        Add(Syscall.NtCreateSection, new NtCreateSectionRequest(0, 0x000F001F, 0, 65536, 0x04, 0x08000000, 0, 0, 0));
        Add(Syscall.NtOpenDirectoryObject, new NtOpenDirectoryObjectRequest(0, 3, CaseInsensitive, (uint)device.Length, 0), device);
        Add(Syscall.NtQueryDirectoryObject, new NtQueryDirectoryObjectRequest(4, 0x3000, 4096, 0, 1, 0));
        Add(Syscall.NtCreateIoCompletion, new NtCreateIoCompletionRequest(0, AllAccess, 0, 0, 0, 0));
        Add(Syscall.NtSetIoCompletion, new NtSetIoCompletionRequest(4, 1, 2, 0, 0, 3));
        Add(Syscall.NtCreateTimer, new NtCreateTimerRequest(0, AllAccess, 0, 0, 0, 0));
        Add(Syscall.NtSetTimer, new NtSetTimerRequest(4, -10_000, 0, 0, 0, 0));
        Add(Syscall.KbQueryKernelState, new KbQueryKernelStateRequest(0));
    }
}
