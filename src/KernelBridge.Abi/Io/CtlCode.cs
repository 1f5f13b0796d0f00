using System.Globalization;

namespace KernelBridge.Abi;

/// <summary>How the I/O manager passes an IOCTL's buffers (the low two bits of the code).</summary>
public enum TransferMethod : uint
{
    METHOD_BUFFERED = 0,
    METHOD_IN_DIRECT = 1,
    METHOD_OUT_DIRECT = 2,
    METHOD_NEITHER = 3,
}

/// <summary>The access an IOCTL requires of the handle (bits 14-15 of the code).</summary>
[Flags]
public enum RequiredAccess : uint
{
    FILE_ANY_ACCESS = 0,
    FILE_READ_ACCESS = 1,
    FILE_WRITE_ACCESS = 2,
}

/// <summary>
/// An I/O control code, CTL_CODE(DeviceType, Function, Method, Access):
/// <c>(DeviceType &lt;&lt; 16) | (Access &lt;&lt; 14) | (Function &lt;&lt; 2) | Method</c>.
/// </summary>
public readonly record struct CtlCode(uint Value)
{
    public static CtlCode Make(uint deviceType, uint function, TransferMethod method, RequiredAccess access)
    {
        if (deviceType > 0xFFFF) throw new ArgumentOutOfRangeException(nameof(deviceType), "device type is 16 bits");
        if (function > 0xFFF) throw new ArgumentOutOfRangeException(nameof(function), "function is 12 bits");
        if ((uint)method > 3) throw new ArgumentOutOfRangeException(nameof(method));
        if ((uint)access > 3) throw new ArgumentOutOfRangeException(nameof(access));
        return new((deviceType << 16) | ((uint)access << 14) | (function << 2) | (uint)method);
    }

    public uint DeviceType => Value >> 16;
    public RequiredAccess Access => (RequiredAccess)((Value >> 14) & 3);
    public uint Function => (Value >> 2) & 0xFFF;
    public TransferMethod Method => (TransferMethod)(Value & 3);
    /// <summary>Function codes 0x800 and up are for vendors; below is Microsoft's range.</summary>
    public bool IsCustomFunction => Function >= 0x800;
    /// <summary>Device types 0x8000 and up are for vendors.</summary>
    public bool IsCustomDeviceType => DeviceType >= 0x8000;

    /// <summary>The granted-access bits a handle must hold to send this code.</summary>
    public uint RequiredHandleAccess =>
        ((Access & RequiredAccess.FILE_READ_ACCESS) != 0 ? AccessMask.FILE_READ_DATA : 0)
        | ((Access & RequiredAccess.FILE_WRITE_ACCESS) != 0 ? AccessMask.FILE_WRITE_DATA : 0);

    public override string ToString() => "0x" + Value.ToString("X8", CultureInfo.InvariantCulture);
}
