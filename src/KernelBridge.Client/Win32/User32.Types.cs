using System.Runtime.InteropServices;

namespace KernelBridge.Client.Win32;

/// <summary>WNDPROC: a window procedure. It runs on the thread that owns the window.</summary>
public delegate nint WNDPROC(nint hWnd, uint msg, nint wParam, nint lParam);

/// <summary>POINT.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct POINT
{
    public int x;
    public int y;
}

/// <summary>MSG: a message as GetMessage and PeekMessage hand it back.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MSG
{
    public nint hwnd;
    public uint message;
    public nint wParam;
    public nint lParam;
    public uint time;
    public POINT pt;
    public uint lPrivate;
}

/// <summary>
/// WNDCLASSEX. The window procedure is a delegate the process keeps (the kernel never sees it);
/// the icon, cursor, brush and menu fields are accepted and unused: these windows draw nothing.
/// </summary>
public struct WNDCLASSEX
{
    public uint cbSize;
    public uint style;
    public WNDPROC? lpfnWndProc;
    public int cbClsExtra;
    public int cbWndExtra;
    public nint hInstance;
    public nint hIcon;
    public nint hCursor;
    public nint hbrBackground;
    public string? lpszMenuName;
    public string? lpszClassName;
    public nint hIconSm;

    /// <summary>What cbSize must say: the size of the native WNDCLASSEXW on x64.</summary>
    public const uint Size = 80;
}

/// <summary>COPYDATASTRUCT: WM_COPYDATA's lParam. The receiver's copy of the data is valid during the call only.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct COPYDATASTRUCT
{
    public nint dwData;
    public uint cbData;
    public nint lpData;
}

/// <summary>CREATESTRUCTW: WM_NCCREATE's and WM_CREATE's lParam.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CREATESTRUCT
{
    public nint lpCreateParams;
    public nint hInstance;
    public nint hMenu;
    public nint hwndParent;
    public int cy;
    public int cx;
    public int y;
    public int x;
    public int style;
    public nint lpszName;
    public nint lpszClass;
    public uint dwExStyle;
}

/// <summary>What the message mechanism holds in the kernel now (KernelBridge's own count, for tests and tools).</summary>
public sealed record UserObjectCounts(int Queues, int Windows, int Classes, int SentMessages, int PostedMessages, int Atoms);
