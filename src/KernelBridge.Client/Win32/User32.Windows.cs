using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Abi.Win32k;
using KernelBridge.Client.Gate;

namespace KernelBridge.Client.Win32;

public static unsafe partial class User32
{
    public const uint WM_NULL = WindowMessages.WM_NULL;
    public const uint WM_CREATE = WindowMessages.WM_CREATE;
    public const uint WM_DESTROY = WindowMessages.WM_DESTROY;
    public const uint WM_CLOSE = WindowMessages.WM_CLOSE;
    public const uint WM_QUIT = WindowMessages.WM_QUIT;
    public const uint WM_COPYDATA = WindowMessages.WM_COPYDATA;
    public const uint WM_NCCREATE = WindowMessages.WM_NCCREATE;
    public const uint WM_NCDESTROY = WindowMessages.WM_NCDESTROY;
    public const uint WM_USER = WindowMessages.WM_USER;
    public const uint WM_APP = WindowMessages.WM_APP;

    /// <summary>RegisterClassEx: the class atom, or 0 (ERROR_CLASS_ALREADY_EXISTS for a name the process registered; ERROR_INVALID_PARAMETER for a bad structure).</summary>
    public static ushort RegisterClassEx(in WNDCLASSEX wndClass)
    {
        if (wndClass.cbSize != WNDCLASSEX.Size || wndClass.lpfnWndProc is null || string.IsNullOrEmpty(wndClass.lpszClassName))
        {
            SetLastError(Win32Error.ERROR_INVALID_PARAMETER);
            return 0;
        }
        if (!TryGate(out var gate)) return 0;
        var status = Syscalls.NtUserRegisterClassEx(gate, new NtUserRegisterClassExRequest(wndClass.style, 0), new(wndClass.lpszClassName), out var reply);
        if (!status.IsSuccess)
        {
            Fail(status);
            return 0;
        }
        Classes[wndClass.lpszClassName] = wndClass.lpfnWndProc;
        return (ushort)reply.Atom;
    }

    /// <summary>UnregisterClass: ERROR_CLASS_DOES_NOT_EXIST, or ERROR_CLASS_HAS_WINDOWS while a window of it lives.</summary>
    public static bool UnregisterClass(string lpClassName, nint hInstance)
    {
        ArgumentNullException.ThrowIfNull(lpClassName);
        _ = hInstance;
        if (!TryGate(out var gate)) return false;
        var status = Syscalls.NtUserUnregisterClass(gate, new NtUserUnregisterClassRequest(0, 0), new(lpClassName), out _);
        if (!status.IsSuccess) return Fail(status);
        Classes.TryRemove(lpClassName, out _);
        return true;
    }

    /// <summary>
    /// CreateWindowEx for message-only windows (hWndParent HWND_MESSAGE) and top-level windows that
    /// draw nothing (0). The window belongs to the calling thread; WM_NCCREATE (0 refuses) and
    /// WM_CREATE (-1 refuses) reach its procedure before this returns.
    /// </summary>
    public static nint CreateWindowEx(uint dwExStyle, string lpClassName, string? lpWindowName, uint dwStyle, int x, int y, int nWidth, int nHeight,
        nint hWndParent, nint hMenu, nint hInstance, nint lpParam)
    {
        ArgumentNullException.ThrowIfNull(lpClassName);
        if (!Classes.TryGetValue(lpClassName, out var procedure))
        {
            SetLastError(Win32Error.ERROR_CANNOT_FIND_WND_CLASS);
            return 0;
        }
        if (!TryGate(out var gate)) return 0;
        var status = Syscalls.NtUserCreateWindowEx(gate, new NtUserCreateWindowExRequest(dwExStyle, dwStyle, hWndParent, 0, 0),
            new(lpClassName, lpWindowName ?? ""), out var reply);
        if (!status.IsSuccess)
        {
            Fail(status);
            return 0;
        }
        var hwnd = (nint)reply.Hwnd;
        Windows[hwnd] = new WindowEntry(procedure, GateClient.CurrentThreadId);
        var name = Marshal.StringToHGlobalUni(lpWindowName ?? "");
        var className = Marshal.StringToHGlobalUni(lpClassName);
        try
        {
            var create = new CREATESTRUCT
            {
                lpCreateParams = lpParam, hInstance = hInstance, hMenu = hMenu, hwndParent = hWndParent, cy = nHeight, cx = nWidth, y = y, x = x,
                style = unchecked((int)dwStyle), lpszName = name, lpszClass = className, dwExStyle = dwExStyle,
            };
            if (procedure(hwnd, WM_NCCREATE, 0, (nint)(&create)) == 0 || procedure(hwnd, WM_CREATE, 0, (nint)(&create)) == -1)
            {
                DestroyWindow(hwnd);
                return 0;
            }
        }
        finally
        {
            Marshal.FreeHGlobal(name);
            Marshal.FreeHGlobal(className);
        }
        return hwnd;
    }

    /// <summary>DestroyWindow: WM_DESTROY and WM_NCDESTROY, then the handle goes. Only the owning thread may (ERROR_ACCESS_DENIED).</summary>
    public static bool DestroyWindow(nint hWnd)
    {
        if (!TryGate(out var gate)) return false;
        if (Windows.TryGetValue(hWnd, out var window) && window.ThreadId == GateClient.CurrentThreadId)
        {
            window.Procedure(hWnd, WM_DESTROY, 0, 0);
            window.Procedure(hWnd, WM_NCDESTROY, 0, 0);
        }
        var status = Syscalls.NtUserDestroyWindow(gate, new NtUserDestroyWindowRequest(hWnd), out _);
        if (!status.IsSuccess) return Fail(status);
        Windows.TryRemove(hWnd, out _);
        return true;
    }

    /// <summary>DefWindowProc: WM_NCCREATE is accepted, WM_CLOSE destroys the window; everything else gives 0.</summary>
    public static nint DefWindowProc(nint hWnd, uint msg, nint wParam, nint lParam)
    {
        _ = wParam;
        _ = lParam;
        switch (msg)
        {
            case WM_NCCREATE:
                return 1;
            case WM_CLOSE:
                DestroyWindow(hWnd);
                return 0;
            default:
                return 0;
        }
    }

    public static nint CallWindowProc(WNDPROC lpPrevWndFunc, nint hWnd, uint msg, nint wParam, nint lParam)
    {
        ArgumentNullException.ThrowIfNull(lpPrevWndFunc);
        return lpPrevWndFunc(hWnd, msg, wParam, lParam);
    }

    /// <summary>
    /// FindWindowEx: with hWndParent HWND_MESSAGE the message-only windows of every process, with 0
    /// the top-level ones; the first after hWndChildAfter whose class and name match (null: any).
    /// </summary>
    public static nint FindWindowEx(nint hWndParent, nint hWndChildAfter, string? lpszClass, string? lpszWindow)
    {
        if (!TryGate(out var gate)) return 0;
        var flags = (lpszClass is null ? 0 : NtUserFindWindowExRequest.ByClass) | (lpszWindow is null ? 0 : NtUserFindWindowExRequest.ByName);
        var status = Syscalls.NtUserFindWindowEx(gate, new NtUserFindWindowExRequest(hWndParent, hWndChildAfter, flags, 0, 0, 0),
            new(lpszClass ?? "", lpszWindow ?? ""), out var reply);
        if (!status.IsSuccess)
        {
            Fail(status);
            return 0;
        }
        return (nint)reply.Hwnd;
    }

    /// <summary>GetWindowThreadProcessId: the owning thread's id (and its process's), or 0 with ERROR_INVALID_WINDOW_HANDLE.</summary>
    public static uint GetWindowThreadProcessId(nint hWnd, out uint lpdwProcessId)
    {
        lpdwProcessId = 0;
        if (!TryGate(out var gate)) return 0;
        var status = Syscalls.NtUserQueryWindow(gate, new NtUserQueryWindowRequest(hWnd), out var reply);
        if (!status.IsSuccess)
        {
            Fail(status);
            return 0;
        }
        lpdwProcessId = (uint)reply.ProcessId;
        return (uint)reply.ThreadId;
    }

    public static bool IsWindow(nint hWnd) =>
        TryGate(out var gate) && Syscalls.NtUserQueryWindow(gate, new NtUserQueryWindowRequest(hWnd), out _).IsSuccess;

    /// <summary>RegisterWindowMessage: 0xC000-0xFFFF, the same for the same name in any case in every process; 0 on failure.</summary>
    public static uint RegisterWindowMessage(string lpString)
    {
        ArgumentNullException.ThrowIfNull(lpString);
        if (!TryGate(out var gate)) return 0;
        var status = Syscalls.NtUserRegisterWindowMessage(gate, new NtUserRegisterWindowMessageRequest(0, 0), new(lpString), out var reply);
        if (status.IsSuccess) return reply.Atom;
        Fail(status);
        return 0;
    }
}
