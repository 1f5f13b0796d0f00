using System.Buffers;
using KernelBridge.Kernel.Ex;
using KernelBridge.Kernel.Ob;
using KernelBridge.Kernel.Ps;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Io;

/// <summary>
/// The I/O manager's core: devices, symbolic links and stacks; IoCallDriver and IoCompleteRequest;
/// cancellation. Every call into a driver goes through <see cref="CallDriver"/> so a driver's
/// exception becomes a bug-check report and a failed request, never a dead kernel.
/// </summary>
internal sealed partial class IoManager
{
    private readonly ObjectManager _ob;
    private readonly BugCheck _bugCheck;
    private readonly ILogger _logger;
    private readonly Lock _cancelLock = new();
    private readonly Lock _stackLock = new();
    private readonly LookasideList<Irp> _irps = new(static () => new Irp(1), depth: 256);
    private readonly LookasideList<IoRequest> _requests;
    private int _outstandingIrps;

    public IoManager(ObjectManager ob, Ke.Dispatcher dispatcher, BugCheck bugCheck, ILogger logger)
    {
        _ob = ob;
        Dispatcher = dispatcher;
        _bugCheck = bugCheck;
        _logger = logger;
        _requests = new LookasideList<IoRequest>(() => new IoRequest(this), depth: 256);
        ob.SetProcedures(ObjectTypes.File, new FileObjectProcedures(this));
        ob.SetProcedures(ObjectTypes.Device, new DeviceObjectProcedures());
        ob.SetProcedures(ObjectTypes.IoCompletion, new IoCompletionProcedures(dispatcher));
        dispatcher.DpcFaulted = (dpc, e) => _bugCheck.Report(BugCheckCode.SYSTEM_THREAD_EXCEPTION_NOT_HANDLED, null, null,
            $"exception in the DPC {dpc.Routine.Method.DeclaringType?.FullName}.{dpc.Routine.Method.Name}", e);
    }

    public Ke.Dispatcher Dispatcher { get; }

    /// <summary>This kernel as drivers reach it: the scope every call into driver code runs in.</summary>
    public IKernelRuntime Runtime { get; set; } = null!;

    public ObjectManager ObjectManager => _ob;
    public BugCheck BugCheck => _bugCheck;

    /// <summary>IRPs the I/O manager has issued that have not completed yet.</summary>
    public int OutstandingIrps => Volatile.Read(ref _outstandingIrps);

    /// <summary>Where requests rent their buffers; the host hands in one that gives large buffers back when idle.</summary>
    public ArrayPool<byte> BufferPool { get; init; } = ArrayPool<byte>.Shared;

    // ---- Devices, links, stacks ----

    /// <summary>IoCreateDevice; with a <paramref name="descriptor"/>, IoCreateDeviceSecure's (else Windows' default for a device).</summary>
    public NtStatus CreateDevice(DriverObject driver, object? extension, string? deviceName, DeviceType deviceType,
        DeviceCharacteristics characteristics, bool exclusive, out DeviceObject? device, Abi.Security.SecurityDescriptor? descriptor = null)
    {
        device = null;
        var created = _ob.Track(new DeviceObject(driver, deviceType, characteristics, exclusive, extension));
        ObjectManager.AssignKernelSecurity(created, descriptor ?? DefaultSecurity.Device);
        if (deviceName is not null)
        {
            var status = _ob.InsertPermanent(created, deviceName);
            if (!status.IsSuccess)
            {
                _ob.Dereference(created);
                return status;
            }
            created.Name = deviceName;
        }
        driver.AddDevice(created);
        device = created;
        return NtStatus.STATUS_SUCCESS;
    }

    public void DeleteDevice(DeviceObject device)
    {
        if (device.DeletePending) return;
        device.DeletePending = true;
        device.DriverObject.RemoveDevice(device);
        lock (_stackLock)
        {
            if (device.AttachedTo is { } lower)
            {
                lower.AttachedDevice = null;
                device.AttachedTo = null;
            }
        }
        _ob.MakeTemporary(device);
        _ob.Dereference(device);
    }

    public NtStatus CreateSymbolicLink(string linkName, string targetName)
    {
        var link = _ob.Track(new SymbolicLinkObject(targetName));
        ObjectManager.AssignKernelSecurity(link, DefaultSecurity.SymbolicLink);
        var status = _ob.InsertPermanent(link, linkName);
        _ob.Dereference(link);
        return status;
    }

    public NtStatus DeleteSymbolicLink(string linkName)
    {
        var status = _ob.LookupObject(linkName, null, caseInsensitive: true, openLink: true, out var found, out _);
        if (!status.IsSuccess) return status;
        if (found is not SymbolicLinkObject)
        {
            _ob.Dereference(found!);
            return NtStatus.STATUS_OBJECT_TYPE_MISMATCH;
        }
        _ob.MakeTemporary(found);
        _ob.Dereference(found);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>The top of the stack <paramref name="device"/> belongs to (IoGetAttachedDevice).</summary>
    public DeviceObject GetAttachedDevice(DeviceObject device)
    {
        lock (_stackLock)
        {
            while (device.AttachedDevice is { } above) device = above;
            return device;
        }
    }

    public DeviceObject? AttachDeviceToDeviceStack(DeviceObject source, DeviceObject target)
    {
        lock (_stackLock)
        {
            if (target.DeletePending || source.AttachedTo is not null) return null;
            var top = target;
            while (top.AttachedDevice is { } above) top = above;
            top.AttachedDevice = source;
            source.AttachedTo = top;
            source.StackSize = top.StackSize + 1;
            return top;
        }
    }

    public void DetachDevice(DeviceObject target)
    {
        lock (_stackLock)
        {
            if (target.AttachedDevice is { } above) above.AttachedTo = null;
            target.AttachedDevice = null;
        }
    }

    // ---- IRPs ----

    /// <summary>IoAllocateIrp from the lookaside list.</summary>
    public Irp AllocateIrp(int stackSize)
    {
        var irp = _irps.Allocate();
        irp.Reinitialize(stackSize);
        irp.Runtime = Runtime;
        Interlocked.Increment(ref _outstandingIrps);
        return irp;
    }

    /// <summary>IoFreeIrp: back to the lookaside list.</summary>
    public void FreeIrp(Irp irp)
    {
        Interlocked.Decrement(ref _outstandingIrps);
        irp.CompletionSink = null;
        irp.OriginalFileObject = null;
        // A pooled IRP must not keep its request's buffers (up to 64 MiB each) alive.
        irp.SystemBuffer = default;
        irp.MdlAddress = null;
        irp.UserBuffer = default;
        if (irp.Verified)
        {
            // The verifier's special pool: an IRP completed for a faulted driver is never reused; others wait in quarantine.
            if (irp.ForceCompleted || Verifier.Quarantine(irp) is not { } evicted) return;
            irp = evicted;
        }
        _irps.Free(irp);
    }

    /// <summary>IoCallDriver.</summary>
    public NtStatus CallDriver(DeviceObject device, Irp irp)
    {
        irp.CurrentLocation--;
        if (irp.CurrentLocation <= 0)
        {
            irp.CurrentLocation++;
            // The fault is the caller's, whose location is the current one: it sent the IRP on with no room left.
            var caller = irp.CurrentLocation <= irp.StackCount ? irp.StackAt(irp.CurrentLocation).DeviceObject?.DriverObject : null;
            _bugCheck.Report(BugCheckCode.NO_MORE_IRP_STACK_LOCATIONS, caller ?? device.DriverObject, irp,
                $"IoCallDriver to {device.Name ?? "an unnamed device"} with no stack location left", null);
            if (caller is not null) caller.Faulted = true;
            return FailIrp(irp, NtStatus.STATUS_DRIVER_INTERNAL_ERROR);
        }
        var stack = irp.StackAt(irp.CurrentLocation);
        stack.DeviceObject = device;
        var driver = device.DriverObject;
        if (driver.Faulted)
        {
            // A faulted driver is never called again; housekeeping IRPs succeed so resources are freed.
            var housekeeping = stack.MajorFunction is IrpMajorFunction.IRP_MJ_CLEANUP or IrpMajorFunction.IRP_MJ_CLOSE;
            return FailIrp(irp, housekeeping ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_DRIVER_INTERNAL_ERROR);
        }
        var dispatch = driver.MajorFunction[(int)stack.MajorFunction] ?? InvalidDeviceRequest;
        if (driver.Verified) return CallVerified(driver, device, irp, stack, dispatch);
        try
        {
            return dispatch(device, irp);
        }
        catch (Exception e)
        {
            return DriverFault(driver, irp, e, $"exception in the {stack.MajorFunction} dispatch routine");
        }
    }

    /// <summary>IopInvalidDeviceRequest: what an empty MajorFunction slot does.</summary>
    private NtStatus InvalidDeviceRequest(DeviceObject device, Irp irp) => FailIrp(irp, NtStatus.STATUS_INVALID_DEVICE_REQUEST);

    private NtStatus FailIrp(Irp irp, NtStatus status)
    {
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = 0;
        CompleteRequest(irp, 0);
        return status;
    }

    /// <summary>A driver threw: report, mark it faulted, and fail the IRP if nobody completed it.</summary>
    public NtStatus DriverFault(DriverObject driver, Irp? irp, Exception e, string detail)
    {
        driver.Faulted = true;
        _bugCheck.Report(BugCheckCode.KMODE_EXCEPTION_NOT_HANDLED, driver, irp, detail, e);
        if (irp is not null && Volatile.Read(ref irp.CompletedFlag) == 0)
        {
            Interlocked.Exchange(ref irp.CancelRoutineField, null);
            irp.IoStatus.Status = NtStatus.STATUS_DRIVER_INTERNAL_ERROR;
            irp.IoStatus.Information = 0;
            CompleteRequest(irp, 0);
        }
        return NtStatus.STATUS_DRIVER_INTERNAL_ERROR;
    }

    /// <summary>IoCompleteRequest: completion routines from the current location up, then the I/O manager's completion.</summary>
    public void CompleteRequest(Irp irp, byte priorityBoost)
    {
        _ = priorityBoost;
        using var scope = KernelRuntime.Enter(Runtime);
        if (Volatile.Read(ref irp.CompletedFlag) != 0)
        {
            CompletedTwice(irp);
            return;
        }
        var completer = irp.CurrentLocation <= irp.StackCount ? irp.StackAt(irp.CurrentLocation).DeviceObject?.DriverObject : null;
        irp.CompletedBy = completer;
        if (irp.Verified)
        {
            Verifier.Released(irp);
            if (completer is { Verified: true } && !irp.ForceCompleted) VerifyCompletion(completer, irp);
        }
        if (irp.IoStatus.Status == NtStatus.STATUS_PENDING)
            LogVerifier("an IRP was completed with STATUS_PENDING as its final status");
        if (Interlocked.Exchange(ref irp.CancelRoutineField, null) is not null)
            LogVerifier("an IRP was completed with its cancel routine still set");

        var location = irp.CurrentLocation;
        while (location <= irp.StackCount)
        {
            var stack = irp.StackAt(location);
            // The verifier compares the marks with what each dispatch routine returned, after the completion has cleared them.
            if (irp.Verified && location < 64 && (stack.Control & IoStackLocation.SL_PENDING_RETURNED) != 0)
                Interlocked.Or(ref irp.VerifierMarks, 1L << location);
            irp.CurrentLocation = location + 1;
            irp.PendingReturned = (stack.Control & IoStackLocation.SL_PENDING_RETURNED) != 0;
            var success = irp.IoStatus.Status.IsSuccess;
            var invoke = stack.CompletionRoutine is not null
                && ((success && (stack.Control & IoStackLocation.SL_INVOKE_ON_SUCCESS) != 0)
                    || (!success && (stack.Control & IoStackLocation.SL_INVOKE_ON_ERROR) != 0)
                    || (irp.Cancel && (stack.Control & IoStackLocation.SL_INVOKE_ON_CANCEL) != 0));
            if (invoke)
            {
                var routine = stack.CompletionRoutine!;
                var context = stack.Context;
                stack.Clear();
                var upper = irp.CurrentLocation <= irp.StackCount ? irp.StackAt(irp.CurrentLocation).DeviceObject : null;
                NtStatus result;
                try
                {
                    result = routine(upper, irp, context);
                }
                catch (Exception e)
                {
                    if (upper is not null)
                    {
                        upper.DriverObject.Faulted = true;
                        _bugCheck.Report(BugCheckCode.KMODE_EXCEPTION_NOT_HANDLED, upper.DriverObject, irp, "exception in a completion routine", e);
                    }
                    result = NtStatus.STATUS_SUCCESS;
                }
                if (result == NtStatus.STATUS_MORE_PROCESSING_REQUIRED) return;
            }
            else
            {
                if (irp.PendingReturned && irp.CurrentLocation <= irp.StackCount)
                    irp.StackAt(irp.CurrentLocation).Control |= IoStackLocation.SL_PENDING_RETURNED;
                stack.Clear();
            }
            location++;
        }

        Volatile.Write(ref irp.CompletedFlag, 1);
        irp.CompletionSink?.OnIrpCompleted(irp);
    }

    // ---- Cancellation ----

    public byte AcquireCancelSpinLock()
    {
        _cancelLock.Enter();
        return 0;
    }

    public void ReleaseCancelSpinLock(byte irql)
    {
        _ = irql;
        if (_cancelLock.IsHeldByCurrentThread) _cancelLock.Exit();
        else LogVerifier("IoReleaseCancelSpinLock without holding the cancel spin lock");
    }

    /// <summary>IoCancelIrp: sets Cancel; calls the cancel routine (with the cancel lock held) if there is one.</summary>
    public bool CancelIrp(Irp irp)
    {
        using var scope = KernelRuntime.Enter(Runtime);
        var irql = AcquireCancelSpinLock();
        Volatile.Write(ref irp.CancelFlag, 1);
        if (irp.Verified && Volatile.Read(ref irp.CompletedFlag) == 0) WatchCancelled(irp);
        var routine = Interlocked.Exchange(ref irp.CancelRoutineField, null);
        if (routine is null)
        {
            ReleaseCancelSpinLock(irql);
            return false;
        }
        irp.CancelIrql = irql;
        var device = irp.CurrentLocation <= irp.StackCount ? irp.StackAt(irp.CurrentLocation).DeviceObject : null;
        try
        {
            routine(device!, irp);
        }
        catch (Exception e)
        {
            if (device is not null) DriverFault(device.DriverObject, irp, e, "exception in a cancel routine");
        }
        finally
        {
            if (_cancelLock.IsHeldByCurrentThread)
            {
                LogVerifier("a cancel routine returned without releasing the cancel spin lock");
                while (_cancelLock.IsHeldByCurrentThread) _cancelLock.Exit();
            }
        }
        return true;
    }

    // ---- Calls into drivers on behalf of a process ----

    /// <summary>Sends an IRP the I/O manager built, in the context of the process it serves.</summary>
    public NtStatus SendIrp(DeviceObject device, Irp irp, ProcessObject? process, ThreadObject? thread)
    {
        using var kernel = KernelRuntime.Enter(Runtime);
        using var scope = CurrentContext.Enter(process, thread);
        return CallDriver(device, irp);
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "driver verifier: {Problem}")]
    private partial void LogVerifier(string problem);
}
