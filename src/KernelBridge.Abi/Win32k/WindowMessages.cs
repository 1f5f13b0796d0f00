namespace KernelBridge.Abi.Win32k;

/// <summary>The window messages and special window handles the message mechanism itself uses (winuser.h).</summary>
public static class WindowMessages
{
    public const uint WM_NULL = 0x0000;
    public const uint WM_CREATE = 0x0001;
    public const uint WM_DESTROY = 0x0002;
    public const uint WM_CLOSE = 0x0010;
    public const uint WM_QUIT = 0x0012;
    public const uint WM_COPYDATA = 0x004A;
    public const uint WM_NCCREATE = 0x0081;
    public const uint WM_NCDESTROY = 0x0082;
    public const uint WM_USER = 0x0400;
    public const uint WM_APP = 0x8000;

    /// <summary>RegisterWindowMessage's range: 0xC000 through 0xFFFF.</summary>
    public const uint FirstRegisteredMessage = 0xC000;
    public const uint LastRegisteredMessage = 0xFFFF;

    /// <summary>The parent that makes a window message-only.</summary>
    public const long HWND_MESSAGE = -3;

    /// <summary>PeekMessage/GetMessage's hWnd of -1: only thread messages (hwnd NULL).</summary>
    public const long ThreadMessagesOnly = -1;
}
