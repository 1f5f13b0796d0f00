using KernelBridge.Abi;

namespace KernelBridge.Drivers.Echo;

/// <summary>Echo's public interface (what a driver's public.h would hold): names and control codes.</summary>
public static class EchoInterface
{
    public const string DeviceName = @"\Device\Echo";
    public const string DosName = @"\??\Echo";
    public const string Win32Name = @"\\.\Echo";

    /// <summary>METHOD_BUFFERED echo: output = prefix + input; a short output buffer gets what fits and STATUS_BUFFER_OVERFLOW.</summary>
    public static readonly CtlCode IOCTL_ECHO_BUFFERED = CtlCode.Make(0x22, 0x800, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>METHOD_IN_DIRECT: the driver reads the caller's output buffer and stores it as the file's message.</summary>
    public static readonly CtlCode IOCTL_ECHO_IN_DIRECT = CtlCode.Make(0x22, 0x801, TransferMethod.METHOD_IN_DIRECT, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>METHOD_OUT_DIRECT echo, straight into the caller's buffer.</summary>
    public static readonly CtlCode IOCTL_ECHO_OUT_DIRECT = CtlCode.Make(0x22, 0x802, TransferMethod.METHOD_OUT_DIRECT, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>METHOD_NEITHER echo: the driver touches the caller's buffers themselves.</summary>
    public static readonly CtlCode IOCTL_ECHO_NEITHER = CtlCode.Make(0x22, 0x803, TransferMethod.METHOD_NEITHER, RequiredAccess.FILE_ANY_ACCESS);

    /// <summary>Sets this file object's prefix; needs a handle opened for writing.</summary>
    public static readonly CtlCode IOCTL_ECHO_SET_PREFIX = CtlCode.Make(0x22, 0x804, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_WRITE_ACCESS);
}
