namespace KernelBridge.Abi;

/// <summary>FILE_DEVICE_* device types (the high word of a control code).</summary>
public enum DeviceType : uint
{
    FILE_DEVICE_BEEP = 0x01,
    FILE_DEVICE_CONTROLLER = 0x04,
    FILE_DEVICE_DISK = 0x07,
    FILE_DEVICE_DISK_FILE_SYSTEM = 0x08,
    FILE_DEVICE_FILE_SYSTEM = 0x09,
    FILE_DEVICE_NAMED_PIPE = 0x11,
    FILE_DEVICE_NETWORK = 0x12,
    FILE_DEVICE_NETWORK_FILE_SYSTEM = 0x14,
    FILE_DEVICE_NULL = 0x15,
    FILE_DEVICE_SERIAL_PORT = 0x1B,
    FILE_DEVICE_UNKNOWN = 0x22,
}

/// <summary>Device characteristics given to IoCreateDevice.</summary>
[Flags]
public enum DeviceCharacteristics : uint
{
    None = 0,
    FILE_REMOVABLE_MEDIA = 0x00000001,
    FILE_READ_ONLY_DEVICE = 0x00000002,
    FILE_FLOPPY_DISKETTE = 0x00000004,
    FILE_WRITE_ONCE_MEDIA = 0x00000008,
    FILE_REMOTE_DEVICE = 0x00000010,
    FILE_DEVICE_IS_MOUNTED = 0x00000020,
    FILE_VIRTUAL_VOLUME = 0x00000040,
    FILE_DEVICE_SECURE_OPEN = 0x00000100,
}

/// <summary>DO_* device object flags.</summary>
[Flags]
public enum DeviceFlags : uint
{
    None = 0,
    DO_VERIFY_VOLUME = 0x00000002,
    DO_BUFFERED_IO = 0x00000004,
    DO_EXCLUSIVE = 0x00000008,
    DO_DIRECT_IO = 0x00000010,
    DO_MAP_IO_BUFFER = 0x00000020,
    DO_DEVICE_INITIALIZING = 0x00000080,
    DO_POWER_PAGABLE = 0x00002000,
}
