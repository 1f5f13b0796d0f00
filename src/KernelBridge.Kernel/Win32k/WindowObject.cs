namespace KernelBridge.Kernel.Win32k;

/// <summary>
/// A window (WND) as the kernel knows it: its handle, class atom, name and owning thread's queue.
/// The window procedure lives in the owning process; the kernel only routes messages to its thread.
/// </summary>
internal sealed class WindowObject(long handle, MessageQueue queue, ushort classAtom, string name, bool messageOnly, uint style, uint exStyle)
{
    public long Handle { get; } = handle;
    public MessageQueue Queue { get; } = queue;
    public ushort ClassAtom { get; } = classAtom;
    public string Name { get; } = name;
    /// <summary>Created with HWND_MESSAGE as its parent.</summary>
    public bool MessageOnly { get; } = messageOnly;
    public uint Style { get; } = style;
    public uint ExStyle { get; } = exStyle;
    /// <summary>Set when destroyed; the handle is never valid again.</summary>
    public bool Destroyed { get; set; }

    public override string ToString() => $"window 0x{Handle:X} of {Queue}";
}
