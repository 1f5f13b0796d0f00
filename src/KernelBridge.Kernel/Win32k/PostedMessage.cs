namespace KernelBridge.Kernel.Win32k;

/// <summary>A posted message as its queue holds it (MSG without the point).</summary>
internal readonly record struct PostedMessage(long Hwnd, uint Message, long WParam, long LParam, uint Time);
