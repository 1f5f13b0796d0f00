namespace KernelBridge.Kernel.Win32k;

/// <summary>What a message call will take from its queue.</summary>
internal struct MessageFilter
{
    /// <summary>0 any window or none, -1 thread messages only, else that window.</summary>
    public long Hwnd;
    public uint Min;
    public uint Max;
    /// <summary>PM_* (PM_REMOVE, PM_QS_*).</summary>
    public uint PeekFlags;
    /// <summary>GetMessage and PeekMessage take posted messages and WM_QUIT.</summary>
    public bool TakesPosted;
    /// <summary>Runs messages sent to the thread (all but SMTO_BLOCK's wait).</summary>
    public bool TakesSent;
    /// <summary>MsgWaitForMultipleObjectsEx: ends on input of <see cref="WakeMask"/>.</summary>
    public bool WaitsForInput;
    public uint WakeMask;
    /// <summary>MWMO_INPUTAVAILABLE: input already there counts, not only new input.</summary>
    public bool InputAvailable;
    /// <summary>A send of the thread whose result ends the call (0: none).</summary>
    public ulong SendId;

    public static MessageFilter ForGet(long hwnd, uint min, uint max, uint peekFlags) =>
        new() { Hwnd = hwnd, Min = min, Max = max, PeekFlags = peekFlags, TakesPosted = true, TakesSent = true };

    /// <summary>Whether a posted message passes the window and range filters.</summary>
    public readonly bool Matches(in PostedMessage message)
    {
        if (Hwnd == Abi.Win32k.WindowMessages.ThreadMessagesOnly) { if (message.Hwnd != 0) return false; }
        else if (Hwnd != 0 && message.Hwnd != Hwnd) return false;
        return (Min == 0 && Max == 0) || (message.Message >= Min && message.Message <= Max);
    }

    /// <summary>PM_QS_*: with none given every kind is processed.</summary>
    public readonly bool Processes(uint queueStatusBits) => (PeekFlags >> 16) == 0 || ((PeekFlags >> 16) & queueStatusBits) != 0;
}
