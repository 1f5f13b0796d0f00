using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

/// <summary>What a frame on the control socket carries.</summary>
public enum FrameKind : ushort
{
    /// <summary>Client → kernel, first frame: <see cref="HelloRequest"/>.</summary>
    Hello = 1,
    /// <summary>Kernel → client: <see cref="HelloReply"/>.</summary>
    HelloReply = 2,
    /// <summary>Client → kernel: a system call. Code = <see cref="Syscall"/>, Value = calling thread id.</summary>
    Call = 3,
    /// <summary>Kernel → client: the result of a call. Value = NTSTATUS.</summary>
    Return = 4,
    /// <summary>Kernel → client, unasked: an overlapped request's completion (Code = <see cref="NotificationKind"/>, Sequence = the call's).</summary>
    Notify = 5,
    /// <summary>Kernel → client, unasked: map or unmap a view (Code = <see cref="ViewOperation"/>; a Map carries the section's descriptor).</summary>
    View = 6,
}

/// <summary>
/// Every frame starts with this 16-byte header. Length counts the whole frame, header included.
/// Sequence pairs a Return (and a Notify) with its Call.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public record struct FrameHeader(uint Length, FrameKind Kind, ushort Code, uint Sequence, int Value)
{
    public const int Size = 16;
}

/// <summary>Constants of the wire protocol.</summary>
public static class WireProtocol
{
    /// <summary>'KBRG' in little-endian order.</summary>
    public const uint Magic = 0x4752424B;

    /// <summary>Bumped on every incompatible change to a frame, request or reply layout.</summary>
    public const uint Version = 8;

    /// <summary>The largest frame either side accepts; anything larger is a protocol violation.</summary>
    public const int MaxFrameLength = 64 * 1024 * 1024;

    /// <summary>The largest buffer a single I/O request may carry (leaves room for the fixed parts of a frame).</summary>
    public const int MaxTransferLength = MaxFrameLength - 64 * 1024;

    /// <summary>The longest object name in bytes (UNICODE_STRING's limit).</summary>
    public const int MaxNameBytes = 0xFFFE;

    public const string SocketFileName = "kernel.sock";

    /// <summary>Appended to the socket's path while a kernel taking over has set the old kernel's socket aside.</summary>
    public const string SetAsideSocketSuffix = ".draining";
    public const string LockFileName = "kernel.lock";
    public const string StartLockFileName = "start.lock";
    public const string PidFileName = "kernel.pid";
}

/// <summary>
/// The client's first frame: what it speaks, which gate features it asks for, and the address range
/// it reserved for views (inaccessible until the kernel maps a view there; 0 bytes: no views).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public record struct HelloRequest(uint Magic, uint ProtocolVersion, GateFeatures Features, ulong ViewSpaceBase = 0, ulong ViewSpaceLength = 0);

/// <summary>
/// The kernel's answer to <see cref="HelloRequest"/>: its version, who it thinks the client is, and
/// the features it granted. With <see cref="GateFeatures.SharedMemory"/> the frame arrives with one
/// descriptor (SCM_RIGHTS): the syscall area, a submission ring of <see cref="SubmissionRingLength"/>
/// bytes followed by a completion ring of <see cref="CompletionRingLength"/> bytes (docs/protocol.md).
/// The first six fields never change place, so a client of any version can read a refusal.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public record struct HelloReply(uint Magic, uint ProtocolVersion, int Status, int KernelProcessId, int ClientProcessId, uint ClientUserId,
    GateFeatures Features = GateFeatures.None, int SubmissionRingLength = 0, int CompletionRingLength = 0)
{
    /// <summary>The bytes every version's reply starts with (up to <see cref="ClientUserId"/>).</summary>
    public const int StableLength = 24;
}
