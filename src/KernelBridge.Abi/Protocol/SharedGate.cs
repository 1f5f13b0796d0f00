using KernelBridge.Abi.Rings;

namespace KernelBridge.Abi.Protocol;

/// <summary>What a client asks for in its Hello, and what the kernel grants in its HelloReply.</summary>
[Flags]
public enum GateFeatures : uint
{
    None = 0,

    /// <summary>Calls and results travel through a shared syscall area (two rings), the socket only for what does not fit.</summary>
    SharedMemory = 1,

    /// <summary>The client never wants the kernel to spin waiting for its next call (KERNELBRIDGE_SPIN=0): sleep at once.</summary>
    NoSpin = 2,
}

/// <summary>What a record in a syscall area's ring holds (its ring record type).</summary>
public enum GateRecord
{
    /// <summary>A whole frame, header first, exactly as it would travel on the socket.</summary>
    Frame = 1,

    /// <summary>
    /// No payload: the next frame of this direction travels on the socket (it is longer than a record
    /// may be, or the ring had no room). The reader takes that frame from the socket before it reads
    /// on, so frames keep their order whichever way they travel.
    /// </summary>
    FrameOnSocket = 2,
}

/// <summary>
/// The shape of a syscall area: a control page the kernel writes (<see cref="SyscallAreaControl"/>),
/// then a submission ring (client threads produce, the kernel consumes), then a completion ring
/// (the kernel produces, the client consumes). The kernel chooses the ring sizes and says them in
/// the HelloReply; a client checks them against the memfd.
/// </summary>
public static class SyscallAreaLayout
{
    /// <summary>The control page at offset 0; the submission ring starts after it.</summary>
    public const int ControlLength = 4096;

    /// <summary>Submission ring capacity: calls are small, data beyond a record's limit goes by socket.</summary>
    public const int SubmissionCapacity = 128 * 1024;

    /// <summary>Completion ring capacity: room for a 64 KiB read's result in one record, and many small ones.</summary>
    public const int CompletionCapacity = 256 * 1024;

    /// <summary>The largest area a client maps (a kernel claiming more is refused).</summary>
    public const long MaxAreaLength = 64L * 1024 * 1024;

    public static int SubmissionRingLength => (int)RingLayout.RegionLength(SubmissionCapacity);

    public static int CompletionRingLength => (int)RingLayout.RegionLength(CompletionCapacity);

    public static long AreaLength(int submissionRingLength, int completionRingLength) => (long)ControlLength + submissionRingLength + completionRingLength;

    public static int SubmissionOffset => ControlLength;

    public static long CompletionOffset(int submissionRingLength) => (long)ControlLength + submissionRingLength;
}

/// <summary>
/// The words at the start of a syscall area that the kernel writes and the client only reads (a
/// client writing them harms only itself). On a cache line of its own: rarely written, read often.
/// </summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 64)]
public struct SyscallAreaControl
{
    /// <summary>
    /// <see cref="SpinAdvice"/>: whether a caller waiting for its result may spin. The kernel says
    /// Sleep while more than one client is busy: with more spinners than cores, each burns the time
    /// slice the others (and the kernel) need.
    /// </summary>
    [System.Runtime.InteropServices.FieldOffset(0)] public uint SpinAdvice;
}

/// <summary>The values of <see cref="SyscallAreaControl.SpinAdvice"/>.</summary>
public static class SpinAdvice
{
    public const uint Spin = 0;
    public const uint Sleep = 1;
}
