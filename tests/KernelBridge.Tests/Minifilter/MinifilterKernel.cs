using KernelBridge.Abi;
using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.FileSystem;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Stack;
using KernelBridge.TestMinifilter;

namespace KernelBridge.Tests.Minifilter;

/// <summary>
/// A kernel of the tests' own with the two test minifilters (U at 385100 above L at 385000) on
/// \Device\RamFs, and a connection to it. Every call runs on a dedicated thread bound to that
/// connection and is bounded in time.
/// </summary>
public sealed class MinifilterKernel : IDisposable
{
    public const int Upper = 0;
    public const int Lower = 1;

    private readonly KernelProcess _kernel;

    public MinifilterKernel()
    {
        _kernel = KernelProcess.Start(KernelProcess.NewInstanceName("minifilter"), "--persistent", "--driver", KernelProcess.TestMinifilterPath);
        Gate = _kernel.Connect();
    }

    public GateClient Gate { get; }
    public KernelProcess Process => _kernel;

    public Task<T> Run<T>(Func<T> work) => StackTest.RunBlocking(Gate, work).WaitAsync(StackTest.Timeout);

    public Task Run(Action work) => Run(() =>
    {
        work();
        return true;
    });

    /// <summary>A fresh directory on the RAM file system for one test (NT path).</summary>
    public Task<string> NewDirectory() => Run(RamFsTest.NewDirectory);

    public Task Rule(int filter, RuleKind kind, int argument = 0, string fragment = "") => Run(() =>
    {
        var input = new byte[12 + fragment.Length * 2];
        MemoryMarshal.Write(input, filter);
        MemoryMarshal.Write(input.AsSpan(4), (uint)kind);
        MemoryMarshal.Write(input.AsSpan(8), argument);
        MemoryMarshal.AsBytes(fragment.AsSpan()).CopyTo(input.AsSpan(12));
        Control(KbMinifilterInterface.IOCTL_KBMF_SET_RULE.Value, input, 0);
    });

    public async Task ClearRules()
    {
        await Rule(Upper, RuleKind.Clear);
        await Rule(Lower, RuleKind.Clear);
    }

    /// <summary>The filters' log since the last call, one callback per line.</summary>
    public Task<string[]> TakeLog() => Run(() =>
    {
        var output = Control(KbMinifilterInterface.IOCTL_KBMF_TAKE_LOG.Value, [], 1 << 20);
        return Encoding.UTF8.GetString(output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    });

    public Task<KbMinifilterCounters> Counters(int filter) => Run(() =>
        MemoryMarshal.Read<KbMinifilterCounters>(Control(KbMinifilterInterface.IOCTL_KBMF_COUNTERS.Value, BitConverter.GetBytes(filter),
            Marshal.SizeOf<KbMinifilterCounters>())));

    public Task<(int Upper, int Lower)> Instances() => Run(() =>
    {
        var output = Control(KbMinifilterInterface.IOCTL_KBMF_INSTANCES.Value, [], 8);
        return (BitConverter.ToInt32(output, 0), BitConverter.ToInt32(output, 4));
    });

    public Task RefuseDetach(int filter, bool refuse) => Run(() =>
        Control(KbMinifilterInterface.IOCTL_KBMF_REFUSE_DETACH.Value, [.. BitConverter.GetBytes(filter), .. BitConverter.GetBytes(refuse ? 1 : 0)], 0));

    /// <summary>FltDetachVolume / FltAttachVolume for one filter: the Win32 error DeviceIoControl gave (0 for success).</summary>
    public Task<uint> Detach(int filter) => Run(() => TryControl(KbMinifilterInterface.IOCTL_KBMF_DETACH.Value, BitConverter.GetBytes(filter)));

    public Task<uint> Attach(int filter) => Run(() => TryControl(KbMinifilterInterface.IOCTL_KBMF_ATTACH.Value, BitConverter.GetBytes(filter)));

    private static unsafe uint TryControl(uint code, byte[] input)
    {
        var handle = Kernel32.CreateFile(KbMinifilterInterface.ControlWin32Name, 0, 0, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        try
        {
            uint returned;
            fixed (byte* pointer = input)
                return Kernel32.DeviceIoControl(handle, code, pointer, (uint)input.Length, null, 0, &returned, null) ? 0 : Kernel32.GetLastError();
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    public Task Unregister(int filter) => Run(() => Control(KbMinifilterInterface.IOCTL_KBMF_UNREGISTER.Value, BitConverter.GetBytes(filter), 0));

    private static unsafe byte[] Control(uint code, byte[] input, int outputLength)
    {
        var handle = Kernel32.CreateFile(KbMinifilterInterface.ControlWin32Name, 0, 0, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.True(handle != Kernel32.INVALID_HANDLE_VALUE, $"the test minifilter's control device did not open: {Kernel32.GetLastError()}");
        try
        {
            var output = new byte[outputLength];
            uint returned;
            fixed (byte* inPointer = input)
            fixed (byte* outPointer = output)
            {
                var ok = Kernel32.DeviceIoControl(handle, code, input.Length == 0 ? null : inPointer, (uint)input.Length,
                    outputLength == 0 ? null : outPointer, (uint)outputLength, &returned, null);
                Assert.True(ok, $"IOCTL 0x{code:X} to the test minifilter failed: {Kernel32.GetLastError()}");
            }
            return output[..(int)returned];
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    public void Dispose()
    {
        StackTest.DisposeGate(Gate);
        _kernel.Dispose();
    }
}
