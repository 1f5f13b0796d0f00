using System.Runtime.InteropServices;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Fuzz;

/// <summary>Cuts the kernel's answer stream into frames as it arrives, keeping only their headers.</summary>
internal sealed class ReplyCounter(bool keepHeaders)
{
    private readonly byte[] _header = new byte[FrameHeader.Size];
    private int _headerFill;
    private long _skip;
    private bool _lost;

    public int Frames { get; private set; }

    public List<FrameHeader>? Headers { get; } = keepHeaders ? [] : null;

    public void Add(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty && !_lost)
        {
            if (_skip > 0)
            {
                var skipped = (int)Math.Min(_skip, bytes.Length);
                _skip -= skipped;
                bytes = bytes[skipped..];
                continue;
            }
            var taken = Math.Min(FrameHeader.Size - _headerFill, bytes.Length);
            bytes[..taken].CopyTo(_header.AsSpan(_headerFill));
            _headerFill += taken;
            bytes = bytes[taken..];
            if (_headerFill < FrameHeader.Size) return;
            _headerFill = 0;
            var header = MemoryMarshal.Read<FrameHeader>(_header);
            Frames++;
            Headers?.Add(header);
            // The kernel never sends a frame shorter than its header; if it did, stop counting rather than guess.
            if (header.Length < FrameHeader.Size) _lost = true;
            _skip = header.Length - FrameHeader.Size;
        }
    }
}
