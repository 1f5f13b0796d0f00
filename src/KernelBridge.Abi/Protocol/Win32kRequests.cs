using System.Runtime.InteropServices;

namespace KernelBridge.Abi.Protocol;

// The message mechanism (win32k's NtUser* services): thread message queues, message-only windows,
// sent messages across threads and processes, registered messages. Numbers 100-149.
// Names (classes, windows, messages) follow as UTF-16. A failure is the NTSTATUS Windows' Win32
// error becomes through the Win32 facility (0xC007xxxx), so RtlNtStatusToDosError gives the error back.

/// <summary>What a message call hands back (<see cref="MessageReply.Kind"/>).</summary>
public enum MessageKind : uint
{
    /// <summary>Nothing (PeekMessage found no message; a wait timed out).</summary>
    None = 0,
    /// <summary>A posted message, in the reply's fields.</summary>
    Posted = 1,
    /// <summary>WM_QUIT from PostQuitMessage; WParam is the exit code.</summary>
    Quit = 2,
    /// <summary>A message sent to one of the caller's windows: run its window procedure, then hand the result back with SentId.</summary>
    Sent = 3,
    /// <summary>The caller's own SendMessage is answered: Result is the receiver's LRESULT.</summary>
    SendResult = 4,
    /// <summary>MsgWaitForMultipleObjectsEx: input of the wake mask is in the queue (WAIT_OBJECT_0 + nCount).</summary>
    Input = 5,
    /// <summary>MsgWaitForMultipleObjectsEx: an object ended the wait; Result is the wait status (WAIT_OBJECT_0 + i, or abandoned).</summary>
    Object = 6,
    /// <summary>SendMessage to a window of the calling thread: the caller calls the window procedure itself.</summary>
    Local = 7,
    /// <summary>An alertable wait was ended by user APCs: the payload holds them (<see cref="ApcRecord"/>s) to run on the waiting thread.</summary>
    Apc = 8,
}

[StructLayout(LayoutKind.Sequential)]
[Syscall(100)]
public partial record struct NtUserPostThreadMessageRequest(uint ThreadId, uint Message, long WParam, long LParam) : IRequest<EmptyReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(101)]
public partial record struct NtUserPostMessageRequest(long Hwnd, uint Message, uint Reserved, long WParam, long LParam) : IRequest<EmptyReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(102)]
public partial record struct NtUserPostQuitMessageRequest(int ExitCode, uint Reserved) : IRequest<EmptyReply>;

/// <summary>
/// PeekMessage: never waits. A sent message waiting for the caller comes first (Kind Sent); the
/// caller runs it and calls again with ReplyId/ReplyResult, which hands that result back first.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(103)]
public partial record struct NtUserPeekMessageRequest(long Hwnd, uint FilterMin, uint FilterMax, uint Flags, uint Reserved, ulong ReplyId, long ReplyResult)
    : IRequest<MessageReply>;

/// <summary>GetMessage: waits (parked) until a posted message in the filter, WM_QUIT, or a sent message to run.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(104)]
public partial record struct NtUserGetMessageRequest(long Hwnd, uint FilterMin, uint FilterMax, ulong ReplyId, long ReplyResult) : IRequest<MessageReply>;

/// <summary>
/// MsgWaitForMultipleObjectsEx (and WaitMessage, with no handles): Count handles follow. Ends with
/// an object (Kind Object), input of WakeMask (Kind Input), a sent message to run (Kind Sent, then
/// call again), user APCs (Kind Apc) or STATUS_TIMEOUT.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(105)]
public partial record struct NtUserMsgWaitForMultipleObjectsExRequest(
    uint Count, uint WakeMask, uint Flags, uint HasTimeout, long Timeout, ulong ReplyId, long ReplyResult,
    [Data("Handles", Element = typeof(long), MaxCount = NtWaitForMultipleObjectsRequest.MaxHandlesSent)] uint HandlesSent, uint Reserved)
    : IRequest<MessageReply>
{
    /// <summary>MAXIMUM_WAIT_OBJECTS - 1: the queue takes the last place.</summary>
    public const int MaximumObjects = NtWaitForMultipleObjectsRequest.MaximumWaitObjects - 1;
}

[StructLayout(LayoutKind.Sequential)]
[Syscall(106)]
public partial record struct NtUserGetQueueStatusRequest(uint Flags, uint Reserved) : IRequest<QueueStatusReply>;

/// <summary>GetQueueStatus: MAKELONG(new kinds since the last look, kinds in the queue).</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct QueueStatusReply(uint Status, uint Reserved);

/// <summary>
/// SendMessage, SendMessageTimeout (Flags: SMTO_*, TimeoutMilliseconds) and SendNotifyMessage
/// (<see cref="Notify"/>). Payload: WM_COPYDATA's bytes (LParam then carries dwData). Waits
/// (parked) for the result; a message sent to the caller meanwhile comes back as Kind Sent, and the
/// caller continues with <see cref="NtUserContinueSendMessageRequest"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(107)]
public partial record struct NtUserSendMessageRequest(
    long Hwnd, uint Message, uint Flags, long WParam, long LParam, uint HasTimeout, uint TimeoutMilliseconds, [Data("Payload")] uint PayloadBytes, uint Reserved)
    : IRequest<MessageReply>
{
    /// <summary>SendNotifyMessage: do not wait for the result.</summary>
    public const uint Notify = 0x8000_0000;
}

/// <summary>Goes on waiting for the caller's send SendId after it ran a sent message (whose result ReplyId/ReplyResult hand back).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(108)]
public partial record struct NtUserContinueSendMessageRequest(ulong SendId, ulong ReplyId, long ReplyResult) : IRequest<MessageReply>;

/// <summary>ReplyMessage: answers the sent message ReplyId now; STATUS_NOT_FOUND if it was answered already.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(109)]
public partial record struct NtUserReplyMessageRequest(ulong ReplyId, long Result) : IRequest<EmptyReply>;

/// <summary>
/// The answer of every message call. SentId names a sent message the caller must answer (Kind
/// Sent); SendId the caller's own send still waiting (Kind Sent during a SendMessage). Payload:
/// WM_COPYDATA's bytes (Kind Sent) or <see cref="ApcRecord"/>s (Kind Apc).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct MessageReply(
    MessageKind Kind, uint Message, long Hwnd, long WParam, long LParam, ulong SentId, ulong SendId, long Result, uint Time,
    [Data("Payload")] uint PayloadBytes);

[StructLayout(LayoutKind.Sequential)]
[Syscall(110)]
public partial record struct NtUserRegisterClassExRequest(uint Style, [Data("ClassName", Kind = DataKind.Unicode)] uint NameBytes) : IRequest<AtomReply>;

/// <summary>An atom: a class's (RegisterClassEx) or a registered message's (RegisterWindowMessage).</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct AtomReply(uint Atom, uint Reserved);

[StructLayout(LayoutKind.Sequential)]
[Syscall(111)]
public partial record struct NtUserUnregisterClassRequest([Data("ClassName", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<EmptyReply>;

/// <summary>CreateWindowEx: Parent is HWND_MESSAGE (message-only) or 0 (a top-level window that draws nothing).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(112)]
public partial record struct NtUserCreateWindowExRequest(
    uint ExStyle, uint Style, long Parent, [Data("ClassName", Kind = DataKind.Unicode)] uint ClassNameBytes,
    [Data("WindowName", Kind = DataKind.Unicode)] uint WindowNameBytes) : IRequest<WindowReply>;

/// <summary>A window and its owner (GetWindowThreadProcessId).</summary>
[StructLayout(LayoutKind.Sequential)]
public partial record struct WindowReply(long Hwnd, int ThreadId, int ProcessId);

/// <summary>DestroyWindow: only the owning thread may.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(113)]
public partial record struct NtUserDestroyWindowRequest(long Hwnd) : IRequest<EmptyReply>;

/// <summary>FindWindowEx: Flags say which names are given (<see cref="ByClass"/>, <see cref="ByName"/>); a name not given matches any.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(114)]
public partial record struct NtUserFindWindowExRequest(
    long Parent, long ChildAfter, uint Flags, [Data("ClassName", Kind = DataKind.Unicode)] uint ClassNameBytes,
    [Data("WindowName", Kind = DataKind.Unicode)] uint WindowNameBytes, uint Reserved) : IRequest<WindowReply>
{
    public const uint ByClass = 1;
    public const uint ByName = 2;
}

/// <summary>IsWindow / GetWindowThreadProcessId.</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(115)]
public partial record struct NtUserQueryWindowRequest(long Hwnd) : IRequest<WindowReply>;

[StructLayout(LayoutKind.Sequential)]
[Syscall(116)]
public partial record struct NtUserRegisterWindowMessageRequest([Data("Name", Kind = DataKind.Unicode)] uint NameBytes, uint Reserved) : IRequest<AtomReply>;

/// <summary>The message mechanism's books: what lives now (tests prove nothing leaks).</summary>
[StructLayout(LayoutKind.Sequential)]
[Syscall(117)]
public partial record struct NtUserQueryStateRequest(uint Reserved) : IRequest<UserStateReply>;

[StructLayout(LayoutKind.Sequential)]
public partial record struct UserStateReply(uint Queues, uint Windows, uint Classes, uint SentMessages, uint PostedMessages, uint Atoms);
