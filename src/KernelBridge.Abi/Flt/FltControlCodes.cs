namespace KernelBridge.Abi;

/// <summary>
/// The device controls FltLib sends on a communication port handle (FLT_CTL_*): Windows' function
/// numbers and access bits. KernelBridge passes them METHOD_BUFFERED rather than METHOD_NEITHER: the
/// caller cannot tell, and a buffered output travels back only as far as the message reaches.
/// </summary>
public static class FltControlCodes
{
    /// <summary>The device of FltMgr's message channel (FILE_DEVICE_DISK_FILE_SYSTEM).</summary>
    public const uint DeviceType = 0x8;

    /// <summary>FilterSendMessage: input to the port's message callback, its output back.</summary>
    public static readonly CtlCode FLT_CTL_SEND_MESSAGE = CtlCode.Make(DeviceType, 6, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_WRITE_ACCESS);

    /// <summary>FilterGetMessage: pends until the kernel sends a message; output FILTER_MESSAGE_HEADER and the message.</summary>
    public static readonly CtlCode FLT_CTL_GET_MESSAGE = CtlCode.Make(DeviceType, 7, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_READ_ACCESS);

    /// <summary>FilterReplyMessage: input FILTER_REPLY_HEADER and the reply.</summary>
    public static readonly CtlCode FLT_CTL_REPLY_MESSAGE = CtlCode.Make(DeviceType, 8, TransferMethod.METHOD_BUFFERED, RequiredAccess.FILE_WRITE_ACCESS);
}
