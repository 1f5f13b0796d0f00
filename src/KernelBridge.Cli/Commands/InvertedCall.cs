using System.Diagnostics;
using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.EventSample;

namespace KernelBridge.Cli.Commands;

/// <summary>The tour's second half: the event sample's inverted call, IRP-based (and cancelled) and event-based.</summary>
internal static unsafe class InvertedCall
{
    public static List<DemoStep> Run(GateClient gate)
    {
        var steps = new List<DemoStep>();
        using var scope = GateClient.Use(gate);
        var code = EventSampleInterface.IOCTL_REGISTER_EVENT.Value;

        // (a) A synchronous handle blocks while the driver holds the IRP, until its timer completes it.
        var device = Kernel32.CreateFile(EventSampleInterface.Win32Name, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, 0, 0,
            CreationDisposition.OPEN_EXISTING, 0, 0);
        var watch = Stopwatch.StartNew();
        var request = new RegisterEvent(NotifyType.IrpBased, 0, EventSampleInterface.RelativeDueTime(TimeSpan.FromMilliseconds(500)));
        uint returned = 0;
        var ok = Kernel32.DeviceIoControl(device, code, MemoryMarshal.AsBytes(new ReadOnlySpan<RegisterEvent>(ref request)), [], ref returned);
        var elapsed = watch.ElapsedMilliseconds;
        steps.Add(new DemoStep("The inverted call (IRP-based)", @"DeviceIoControl(\\.\Event_Sample, IOCTL_REGISTER_EVENT {IrpBased, due in 500 ms})",
            ok ? NtStatus.STATUS_SUCCESS : Status(), 0, [],
            $"The driver marked the IRP pending and queued it (a cancel-safe queue); this thread waited {elapsed} ms — no kernel thread did — "
            + "until the driver's timer DPC completed it. This is how a driver talks first: the application leaves a request for it to answer."));
        Kernel32.CloseHandle(device);

        // The same, on an overlapped handle, cancelled before the timer fires.
        var overlappedDevice = Kernel32.CreateFile(EventSampleInterface.Win32Name, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, 0, 0,
            CreationDisposition.OPEN_EXISTING, (uint)FileFlags.FILE_FLAG_OVERLAPPED, 0);
        var overlapped = (OVERLAPPED*)NativeMemory.AllocZeroed((nuint)sizeof(OVERLAPPED));
        var input = (RegisterEvent*)NativeMemory.Alloc((nuint)sizeof(RegisterEvent));
        *input = new RegisterEvent(NotifyType.IrpBased, 0, EventSampleInterface.RelativeDueTime(TimeSpan.FromSeconds(30)));
        overlapped->hEvent = Kernel32.CreateEvent(0, true, false, null);
        var issued = Kernel32.DeviceIoControl(overlappedDevice, code, input, (uint)sizeof(RegisterEvent), null, 0, null, overlapped);
        var pendingError = Kernel32.GetLastError();
        Kernel32.CancelIoEx(overlappedDevice, overlapped);
        uint transferred;
        var finished = Kernel32.GetOverlappedResultEx(overlappedDevice, overlapped, &transferred, 5000, false);
        var result = finished ? NtStatus.STATUS_SUCCESS : (NtStatus)(int)overlapped->Internal;
        steps.Add(new DemoStep("Cancelling the pended IRP", "DeviceIoControl on an overlapped handle (due in 30 s), then CancelIoEx",
            result, 0, [],
            $"The call returned at once ({(issued ? "TRUE" : $"FALSE, error {pendingError} = ERROR_IO_PENDING")}); CancelIoEx ran the cancel routine the queue had set, "
            + "which completed the IRP with STATUS_CANCELLED: GetOverlappedResult reports ERROR_OPERATION_ABORTED (995). Closing the handle or killing the process would have done the same."));
        Kernel32.CloseHandle(overlapped->hEvent);
        Kernel32.CloseHandle(overlappedDevice);
        NativeMemory.Free(input);
        NativeMemory.Free(overlapped);

        // (b) An event handle passed down, referenced by the driver, signalled from its DPC.
        device = Kernel32.CreateFile(EventSampleInterface.Win32Name, AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE, 0, 0,
            CreationDisposition.OPEN_EXISTING, 0, 0);
        var kernelEvent = Kernel32.CreateEvent(0, true, false, null);
        request = new RegisterEvent(NotifyType.EventBased, kernelEvent, EventSampleInterface.RelativeDueTime(TimeSpan.FromMilliseconds(300)));
        watch.Restart();
        ok = Kernel32.DeviceIoControl(device, code, MemoryMarshal.AsBytes(new ReadOnlySpan<RegisterEvent>(ref request)), [], ref returned);
        var returnedAfter = watch.ElapsedMilliseconds;
        var waited = Kernel32.WaitForSingleObject(kernelEvent, 5000);
        steps.Add(new DemoStep("The inverted call (event-based)", @"CreateEvent, DeviceIoControl(IOCTL_REGISTER_EVENT {EventBased, hEvent, due in 300 ms}), WaitForSingleObject",
            waited == Kernel32.WAIT_OBJECT_0 && ok ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_TIMEOUT, 0, [],
            $"The IOCTL returned after {returnedAfter} ms: the driver took a reference on the event with ObReferenceObjectByHandle (it runs in the caller's context, "
            + $"so the handle meant this process's event) and set a timer. The event was signalled {watch.ElapsedMilliseconds} ms in, by KeSetEvent in the DPC."));
        Kernel32.CloseHandle(kernelEvent);
        Kernel32.CloseHandle(device);
        return steps;
    }

    private static NtStatus Status() => (NtStatus)(int)(0xC0070000 | Kernel32.GetLastError());
}
