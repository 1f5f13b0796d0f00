namespace KernelBridge.Abi.Win32k;

/// <summary>QS_*: the kinds of input a thread's queue holds (GetQueueStatus, MsgWaitForMultipleObjects' wake mask).</summary>
public static class QueueStatus
{
    public const uint QS_KEY = 0x0001;
    public const uint QS_MOUSEMOVE = 0x0002;
    public const uint QS_MOUSEBUTTON = 0x0004;
    public const uint QS_POSTMESSAGE = 0x0008;
    public const uint QS_TIMER = 0x0010;
    public const uint QS_PAINT = 0x0020;
    public const uint QS_SENDMESSAGE = 0x0040;
    public const uint QS_HOTKEY = 0x0080;
    public const uint QS_ALLPOSTMESSAGE = 0x0100;
    public const uint QS_RAWINPUT = 0x0400;
    public const uint QS_TOUCH = 0x0800;
    public const uint QS_POINTER = 0x1000;
    public const uint QS_MOUSE = QS_MOUSEMOVE | QS_MOUSEBUTTON;
    public const uint QS_INPUT = QS_MOUSE | QS_KEY | QS_RAWINPUT | QS_TOUCH | QS_POINTER;
    public const uint QS_ALLEVENTS = QS_INPUT | QS_POSTMESSAGE | QS_TIMER | QS_PAINT | QS_HOTKEY;
    public const uint QS_ALLINPUT = QS_ALLEVENTS | QS_SENDMESSAGE;

    /// <summary>Every bit a caller may name.</summary>
    public const uint ValidMask = QS_ALLINPUT | QS_ALLPOSTMESSAGE;
}

/// <summary>PM_*: what PeekMessage does with the message it finds, and which kinds it processes (PM_QS_*).</summary>
public static class PeekMessageFlags
{
    public const uint PM_NOREMOVE = 0x0000;
    public const uint PM_REMOVE = 0x0001;
    public const uint PM_NOYIELD = 0x0002;
    public const uint PM_QS_INPUT = QueueStatus.QS_INPUT << 16;
    public const uint PM_QS_POSTMESSAGE = (QueueStatus.QS_POSTMESSAGE | QueueStatus.QS_HOTKEY | QueueStatus.QS_TIMER) << 16;
    public const uint PM_QS_PAINT = QueueStatus.QS_PAINT << 16;
    public const uint PM_QS_SENDMESSAGE = QueueStatus.QS_SENDMESSAGE << 16;
}

/// <summary>MWMO_*: MsgWaitForMultipleObjectsEx's flags.</summary>
public static class MsgWaitFlags
{
    public const uint MWMO_WAITALL = 0x0001;
    public const uint MWMO_ALERTABLE = 0x0002;
    public const uint MWMO_INPUTAVAILABLE = 0x0004;
    public const uint ValidMask = MWMO_WAITALL | MWMO_ALERTABLE | MWMO_INPUTAVAILABLE;
}

/// <summary>SMTO_*: SendMessageTimeout's flags.</summary>
public static class SendMessageTimeoutFlags
{
    public const uint SMTO_NORMAL = 0x0000;
    public const uint SMTO_BLOCK = 0x0001;
    public const uint SMTO_ABORTIFHUNG = 0x0002;
    public const uint SMTO_NOTIMEOUTIFNOTHUNG = 0x0008;
    public const uint SMTO_ERRORONEXIT = 0x0020;
}
