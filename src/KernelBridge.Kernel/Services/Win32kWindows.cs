using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;

namespace KernelBridge.Kernel.Services;

/// <summary>
/// The NtUser services of windows: classes, message-only windows, FindWindowEx, the window's owner,
/// registered messages, and the books (what lives now).
/// </summary>
internal sealed partial class SystemServices
{
    public void NtUserRegisterClassEx(in SyscallContext context, in NtUserRegisterClassExRequest request, NtUserRegisterClassExRequest.Data data)
    {
        var status = User.RegisterClass(context.Process, new string(data.ClassName), out var atom);
        context.Reply.Send(status, new AtomReply(atom, 0));
    }

    public void NtUserUnregisterClass(in SyscallContext context, in NtUserUnregisterClassRequest request, NtUserUnregisterClassRequest.Data data) =>
        context.Reply.Send(User.UnregisterClass(context.Process, new string(data.ClassName)));

    public void NtUserCreateWindowEx(in SyscallContext context, in NtUserCreateWindowExRequest request, NtUserCreateWindowExRequest.Data data)
    {
        var status = User.CreateWindow(context.Thread, new string(data.ClassName), new string(data.WindowName), request.Parent, request.Style, request.ExStyle,
            out var window);
        context.Reply.Send(status, window is null ? new WindowReply() : new WindowReply(window.Handle, window.Queue.ThreadId, window.Queue.Process.ProcessId));
    }

    public void NtUserDestroyWindow(in SyscallContext context, in NtUserDestroyWindowRequest request) =>
        context.Reply.Send(User.DestroyWindow(context.Thread, request.Hwnd));

    public void NtUserFindWindowEx(in SyscallContext context, in NtUserFindWindowExRequest request, NtUserFindWindowExRequest.Data data)
    {
        var className = (request.Flags & NtUserFindWindowExRequest.ByClass) != 0 ? new string(data.ClassName) : null;
        var windowName = (request.Flags & NtUserFindWindowExRequest.ByName) != 0 ? new string(data.WindowName) : null;
        var status = User.FindWindow(request.Parent, request.ChildAfter, className, windowName, out var window);
        context.Reply.Send(status, window is null ? new WindowReply() : new WindowReply(window.Handle, window.Queue.ThreadId, window.Queue.Process.ProcessId));
    }

    public void NtUserQueryWindow(in SyscallContext context, in NtUserQueryWindowRequest request)
    {
        if (User.WindowOf(request.Hwnd) is not { } window)
        {
            context.Reply.Send(Win32k.UserStatus.InvalidWindowHandle, new WindowReply());
            return;
        }
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new WindowReply(window.Handle, window.Queue.ThreadId, window.Queue.Process.ProcessId));
    }

    public void NtUserRegisterWindowMessage(in SyscallContext context, in NtUserRegisterWindowMessageRequest request, NtUserRegisterWindowMessageRequest.Data data)
    {
        var status = User.RegisterWindowMessage(new string(data.Name), out var message);
        context.Reply.Send(status, new AtomReply(message, 0));
    }

    public void NtUserQueryState(in SyscallContext context, in NtUserQueryStateRequest request)
    {
        var counts = User.Counts();
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new UserStateReply((uint)counts.Queues, (uint)counts.Windows, (uint)counts.Classes, (uint)counts.Sent,
            (uint)counts.Posted, (uint)counts.Atoms));
    }
}
