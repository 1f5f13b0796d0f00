using BenchmarkDotNet.Attributes;
using KernelBridge.Abi;
using KernelBridge.Ddk;
using KernelBridge.Kernel;
using KernelBridge.Kernel.Ex;
using KernelBridge.Kernel.Io;
using KernelBridge.Kernel.Ob;
using Microsoft.Extensions.Logging.Abstractions;

namespace KernelBridge.Benchmarks;

/// <summary>
/// The I/O manager's per-request objects, from its lookaside lists: an IRP allocated, sent to a
/// driver whose dispatch routine completes it at once (IoCallDriver, IoCompleteRequest) and freed;
/// and the request that carries an IRP, rented and returned.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class IrpBenchmarks
{
    private IoManager _io = null!;
    private DeviceObject _device = null!;
    private string _reports = null!;

    [GlobalSetup]
    public void Setup()
    {
        _reports = Directory.CreateTempSubdirectory("kbridge-bench-bugcheck-").FullName;
        var ob = new ObjectManager();
        var dispatcher = new Kernel.Ke.Dispatcher();
        var bugCheck = new BugCheck(_reports, FaultPolicy.Isolate, NullLogger.Instance, static _ => { });
        _io = new IoManager(ob, dispatcher, bugCheck, NullLogger.Instance);
        var exports = new DdkExports(_io, ob, dispatcher, new Kernel.Mm.MemoryManager(ob, NullLogger.Instance, 1 << 20),
            new Kernel.Ps.ProcessManager(ob, dispatcher, NullLogger.Instance));
        ob.Runtime = exports;
        _io.Runtime = exports;
        dispatcher.Runtime = exports;
        var loader = new DriverLoader(_io, ob, NullLogger.Instance);
        var status = loader.LoadBuiltIn("BenchComplete", DriverEntry);
        if (!status.IsSuccess) throw new InvalidOperationException($"loading the benchmark's driver: {status}");
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_reports, recursive: true);

    private NtStatus DriverEntry(DriverObject driver, string registryPath)
    {
        var status = Io.CreateDevice(driver, null, null, DeviceType.FILE_DEVICE_UNKNOWN, 0, exclusive: false, out var device);
        if (!status.IsSuccess) return status;
        _device = device!;
        driver.MajorFunction[(int)IrpMajorFunction.IRP_MJ_DEVICE_CONTROL] = CompleteAtOnce;
        return NtStatus.STATUS_SUCCESS;
    }

    private static NtStatus CompleteAtOnce(DeviceObject device, Irp irp)
    {
        irp.IoStatus.Status = NtStatus.STATUS_SUCCESS;
        irp.IoStatus.Information = 64;
        Io.CompleteRequest(irp);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>IoAllocateIrp, IoCallDriver to a driver that completes at once, IoFreeIrp.</summary>
    [Benchmark(Baseline = true)]
    public NtStatus AllocateCallCompleteFree()
    {
        var irp = _io.AllocateIrp(_device.StackSize);
        Io.GetNextIrpStackLocation(irp).MajorFunction = IrpMajorFunction.IRP_MJ_DEVICE_CONTROL;
        var status = _io.CallDriver(_device, irp);
        _io.FreeIrp(irp);
        return status;
    }

    /// <summary>The lookaside round trip of the request object alone.</summary>
    [Benchmark]
    public int RentAndReturnRequest()
    {
        var request = _io.RentRequest(IoRequestKind.DeviceControl);
        var kind = request.Kind;
        _io.ReturnRequest(request);
        return (int)kind;
    }
}
