using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Rings;

/// <summary>
/// The 8 bytes before every record's payload. <see cref="Length"/> is the record's state and is
/// written last: 0 nothing here yet, negative reserved (minus the length), positive committed
/// (header plus payload, unaligned; the record occupies it rounded up to 8).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct RingRecordHeader
{
    public int Length;

    /// <summary>The producer's tag (≥ 0), or <see cref="RingLayout.PaddingType"/>.</summary>
    public int Type;
}
