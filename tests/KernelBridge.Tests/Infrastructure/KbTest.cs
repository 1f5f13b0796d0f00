using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;

namespace KernelBridge.Tests.Infrastructure;

/// <summary>Helpers for talking to the test driver through the real kernel.</summary>
public static unsafe class KbTest
{
    public const uint ReadWrite = AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE;

    /// <summary>A fresh tag: the file name under the device, so each test counts only its own requests.</summary>
    public static string NewTag() => @"\" + Guid.NewGuid().ToString("N")[..12];

    public static string Path(string tag, string variant = "") => KbTestInterface.Win32(KbTestInterface.ServiceName, variant) + tag;

    /// <summary>CreateFile on \\.\KbTest{variant}{tag}; asserts it worked.</summary>
    public static nint Open(string tag, string variant = "", uint access = ReadWrite, uint flags = 0)
    {
        var handle = Kernel32.CreateFile(Path(tag, variant), access, 3, 0, CreationDisposition.OPEN_EXISTING, flags, 0);
        Assert.True(handle != Kernel32.INVALID_HANDLE_VALUE, $"CreateFile({Path(tag, variant)}) failed with {Kernel32.GetLastError()}");
        return handle;
    }

    public static byte[] Bytes<T>(T value) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(ref value)).ToArray();

    /// <summary>What the driver saw for <paramref name="tag"/>.</summary>
    public static KbTestCounters Counters(string tag)
    {
        var control = Kernel32.CreateFile(Path(@"\control"), 0, 3, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.NotEqual(Kernel32.INVALID_HANDLE_VALUE, control);
        try
        {
            var output = new byte[Marshal.SizeOf<KbTestCounters>()];
            uint returned = 0;
            Assert.True(Kernel32.DeviceIoControl(control, KbTestInterface.IOCTL_KBTEST_COUNTERS.Value, MemoryMarshal.AsBytes(tag.AsSpan()), output, ref returned),
                $"COUNTERS failed: {Kernel32.GetLastError()}");
            return MemoryMarshal.Read<KbTestCounters>(output);
        }
        finally
        {
            Kernel32.CloseHandle(control);
        }
    }

    /// <summary>Completes the tag's parked IRPs with <paramref name="status"/>; returns how many.</summary>
    public static int Release(string tag, NtStatus status, long information = 0)
    {
        var handle = Open(tag);
        try
        {
            var input = new byte[16];
            MemoryMarshal.Write(input, status.Value);
            MemoryMarshal.Write(input.AsSpan(8), information);
            var output = new byte[4];
            uint returned = 0;
            Assert.True(Kernel32.DeviceIoControl(handle, KbTestInterface.IOCTL_KBTEST_RELEASE.Value, input, output, ref returned));
            return MemoryMarshal.Read<int>(output);
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    /// <summary>Polls (bounded) until <paramref name="condition"/> holds.</summary>
    public static bool Eventually(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            Thread.Sleep(20);
        }
        return condition();
    }

    /// <summary>NtDeviceIoControlFile with raw buffers; returns the status.</summary>
    public static NtStatus Ioctl(nint handle, CtlCode code, byte[]? input, byte[]? output, ref IO_STATUS_BLOCK iosb)
    {
        fixed (byte* inPointer = input)
        fixed (byte* outPointer = output)
        fixed (IO_STATUS_BLOCK* iosbPointer = &iosb)
        {
            return Ntdll.NtDeviceIoControlFile(handle, 0, 0, 0, iosbPointer, code.Value, inPointer, (uint)(input?.Length ?? 0),
                outPointer, (uint)(output?.Length ?? 0));
        }
    }
}
