using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Scanner;
using KernelBridge.Platform;
using KernelBridge.Tests.FileSystem;
using KernelBridge.Tests.Infrastructure;
using KernelBridge.Tests.Stack;

namespace KernelBridge.Tests.Scanner;

/// <summary>
/// A kernel of the test's own (the scanner is built into every kernel; a connected service must
/// not scan the conformance kernel's files), its connection, and the scanner sample as a child process.
/// </summary>
public sealed class ScannerKernel : IDisposable
{
    private readonly KernelProcess _kernel;

    public ScannerKernel()
    {
        _kernel = KernelProcess.Start(KernelProcess.NewInstanceName("scanner"), "--persistent");
        Gate = _kernel.Connect();
    }

    public GateClient Gate { get; }
    public string Instance => _kernel.Instance;
    public KernelProcess Kernel => _kernel;

    public Task<T> Run<T>(Func<T> work) => StackTest.RunBlocking(Gate, work).WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>The scanner sample, connected (it printed so), with its arguments.</summary>
    public ChildProcess StartService(params string[] arguments)
    {
        var dll = Path.Combine(RepositoryRoot(), "samples", "Scanner", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0", "Scanner.dll");
        Assert.True(File.Exists(dll), $"the scanner sample is not built at {dll}");
        var service = ChildProcess.StartDll(dll, new Dictionary<string, string> { [InstanceDirectory.InstanceVariable] = Instance }, arguments);
        if (!service.WaitForLine("connected to", TimeSpan.FromSeconds(20)))
        {
            var output = service.Output;
            service.Dispose();
            Assert.Fail($"the scanner service did not connect:{Environment.NewLine}{output}");
        }
        return service;
    }

    /// <summary>The scanner's statistics, as its control device gives them.</summary>
    public Task<ScannerStatistics> Statistics() => Run(() =>
    {
        var output = new byte[Marshal.SizeOf<ScannerStatistics>()];
        Control(ScannerInterface.IOCTL_SCANNER_GET_STATISTICS.Value, [], output, GENERIC_READ);
        return MemoryMarshal.Read<ScannerStatistics>(output);
    });

    public Task SetPolicy(ScannerPolicy policy) => Run(() =>
    {
        Control(ScannerInterface.IOCTL_SCANNER_SET_POLICY.Value, BitConverter.GetBytes((uint)policy), [], GENERIC_WRITE);
        return true;
    });

    /// <summary>Waits (bounded) until the kernel has seen the connection go (the service was killed).</summary>
    public async Task WaitDisconnected()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await Statistics()).Connected != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the kernel still counts the killed scanner as connected");
            await Task.Delay(20);
        }
    }

    private const uint GENERIC_READ = 0x80000000, GENERIC_WRITE = 0x40000000;

    private static unsafe void Control(uint code, byte[] input, byte[] output, uint access)
    {
        var handle = Kernel32.CreateFile(ScannerInterface.ControlWin32Name, access, 0, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        Assert.True(handle != Kernel32.INVALID_HANDLE_VALUE, $"\\\\.\\Scanner did not open: {Kernel32.GetLastError()}");
        try
        {
            uint returned = 0;
            Assert.True(Kernel32.DeviceIoControl(handle, code, input, output, ref returned), $"IOCTL 0x{code:X} failed: {Kernel32.GetLastError()}");
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "KernelBridge.sln"))) return directory.FullName;
        throw new InvalidOperationException($"no KernelBridge.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Creates (or replaces) a file with this content; true if every step succeeded.</summary>
    public static uint Plant(string ntPath, string content)
    {
        var status = RamFsTest.Create(ntPath, RamFsTest.ReadWrite | RamFsTest.SYNCHRONIZE, RamFsTest.ShareAll, RamFsTest.FILE_OVERWRITE_IF,
            RamFsTest.FILE_SYNCHRONOUS_IO_NONALERT | RamFsTest.FILE_NON_DIRECTORY_FILE, out var handle, out _);
        if (status != RamFsTest.STATUS_SUCCESS) return status;
        try
        {
            return RamFsTest.WriteAt(handle, 0, System.Text.Encoding.UTF8.GetBytes(content), out _);
        }
        finally
        {
            Kernel32.CloseHandle(handle);
        }
    }

    /// <summary>Opens the file for reading and closes it: the status of the open.</summary>
    public static uint TryOpen(string ntPath)
    {
        var status = RamFsTest.Create(ntPath, RamFsTest.GENERIC_READ | RamFsTest.SYNCHRONIZE, RamFsTest.ShareAll, RamFsTest.FILE_OPEN,
            RamFsTest.FILE_SYNCHRONOUS_IO_NONALERT | RamFsTest.FILE_NON_DIRECTORY_FILE, out var handle, out _);
        if (handle != 0) Kernel32.CloseHandle(handle);
        return status;
    }

    public void Dispose()
    {
        StackTest.DisposeGate(Gate);
        _kernel.Dispose();
    }
}
