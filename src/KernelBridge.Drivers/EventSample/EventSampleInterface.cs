using System.Runtime.InteropServices;
using KernelBridge.Abi;

namespace KernelBridge.Drivers.EventSample;

/// <summary>NOTIFY_TYPE: how the driver tells the application its timer fired.</summary>
public enum NotifyType
{
    /// <summary>The IOCTL pends and completes when the timer fires (the inverted call).</summary>
    IrpBased = 0,
    /// <summary>The IOCTL completes at once; the driver signals the application's event when the timer fires.</summary>
    EventBased = 1,
}

/// <summary>REGISTER_EVENT, as the sample's public.h lays it out (x64): Type, then the event handle, then the due time.</summary>
[StructLayout(LayoutKind.Sequential)]
public record struct RegisterEvent(NotifyType Type, long EventHandle, long DueTime);

/// <summary>The event sample's public interface (Windows-driver-samples general/event, in C#).</summary>
public static class EventSampleInterface
{
    public const string DeviceName = @"\Device\Event_Sample";
    public const string DosName = @"\??\Event_Sample";
    public const string Win32Name = @"\\.\Event_Sample";

    /// <summary>CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS) = 0x222000.</summary>
    public static readonly CtlCode IOCTL_REGISTER_EVENT = CtlCode.Make(0x22, 0x800, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>A relative due time in 100 ns units (negative).</summary>
    public static long RelativeDueTime(TimeSpan after) => -after.Ticks;
}
