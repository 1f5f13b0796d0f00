using KernelBridge.Abi.Diagnostics;
using KernelBridge.Kernel.Ex;

namespace KernelBridge.Kernel.Io;

/// <summary>
/// The I/O verifier's checks (Windows' DRIVER_VERIFIER_IOMANAGER_VIOLATION codes where Windows has
/// them): what a verified driver's dispatch routine returned against what it did to the IRP, how
/// it completed it, whether it reached for it afterwards, whether it ever completed it. A violation
/// writes a bug check, marks the driver faulted and fails the request with
/// STATUS_DRIVER_INTERNAL_ERROR; an IRP the driver still holds is completed for it.
/// </summary>
internal sealed partial class IoManager
{
    /// <summary>I/O verifier codes (parameter 1 of 0xC9).</summary>
    public const ulong IoCompletedWithPending = 0x06, IoCompletedWithCancelRoutine = 0x07, IoVerifierUnknown = 0x200,
        IoReturnedWithoutCompleting = 0x226, IoPendingNotMarked = 0x23D, IoMarkedNotPending = 0x23E, IoInformationTooLarge = 0x312;

    /// <summary>Parameter 1 of 0xC4 for references a driver still holds when it unloads (Windows' 0x62 is the same fault for pool).</summary>
    public const ulong VerifierLeakAtUnload = 0x62;

    public DriverVerifier Verifier { get; init; } = DriverVerifier.Off;

    /// <summary>IoCallDriver into a verified driver: the same call, then the checks of what it did.</summary>
    private NtStatus CallVerified(DriverObject driver, DeviceObject device, Irp irp, IoStackLocation stack, DriverDispatch dispatch)
    {
        var location = irp.CurrentLocation;
        var major = stack.MajorFunction;
        var ioctl = stack.Parameters.DeviceIoControl.IoControlCode;
        if (!irp.Verified)
        {
            irp.Verified = true;
            irp.VerifiedMajor = major;
            irp.VerifiedIoControlCode = ioctl;
        }
        var saved = DriverVerifier.Enter(driver, irp, major, ioctl);
        NtStatus status;
        try
        {
            status = dispatch(device, irp);
        }
        catch (VerifierStopException)
        {
            return FailAfterViolation(irp, location);
        }
        catch (Exception e)
        {
            return DriverFault(driver, irp, e, $"exception in the {major} dispatch routine");
        }
        finally
        {
            DriverVerifier.Leave(saved);
        }
        // A violation reported while the routine ran (its IoCompleteRequest broke a rule) fails the request too.
        if (driver.Faulted) return FailAfterViolation(irp, location);
        return AfterDispatch(driver, irp, location, major, ioctl, status);
    }

    /// <summary>The pending rules (IoMarkIrpPending if and only if STATUS_PENDING), and a final status means the IRP is done with.</summary>
    private NtStatus AfterDispatch(DriverObject driver, Irp irp, int location, IrpMajorFunction major, uint ioctl, NtStatus status)
    {
        var stack = irp.StackAt(location);
        var marked = (stack.Control & IoStackLocation.SL_PENDING_RETURNED) != 0
            || (location < 64 && (Volatile.Read(ref irp.VerifierMarks) & (1L << location)) != 0);
        var completed = Volatile.Read(ref irp.CompletedFlag) != 0;
        var current = irp.CurrentLocation;
        var held = !completed && current == location;
        // Passed down and not back yet: a completion routine may still mark this location (IoMarkIrpPending if PendingReturned).
        var below = !completed && current < location;
        ulong violation = 0;
        string? detail = null;
        if (status == NtStatus.STATUS_PENDING && !marked && !below)
        {
            violation = IoPendingNotMarked;
            detail = "the dispatch routine returned STATUS_PENDING without IoMarkIrpPending";
        }
        else if (status != NtStatus.STATUS_PENDING && marked)
        {
            violation = IoMarkedNotPending;
            detail = $"the dispatch routine called IoMarkIrpPending but returned {status}";
        }
        else if (status != NtStatus.STATUS_PENDING && held)
        {
            violation = IoReturnedWithoutCompleting;
            detail = $"the dispatch routine returned {status} without completing the IRP or passing it down";
        }
        if (violation == 0)
        {
            if (status == NtStatus.STATUS_PENDING && held) Verifier.Holding(driver, irp);
            return status;
        }
        VerifierViolation(BugCheckCode.DRIVER_VERIFIER_IOMANAGER_VIOLATION, violation, BugCheck.AddressOf(irp), status.Code, 0,
            driver, irp, major, ioctl, detail!);
        return FailAfterViolation(irp, location);
    }

    /// <summary>
    /// After a violation in a dispatch routine (the request's caller has not been answered yet): a
    /// completed IRP's outcome becomes the failure; one the driver still holds is completed for it.
    /// </summary>
    private NtStatus FailAfterViolation(Irp irp, int location)
    {
        if (Volatile.Read(ref irp.CompletedFlag) != 0)
        {
            irp.IoStatus.Status = NtStatus.STATUS_DRIVER_INTERNAL_ERROR;
            irp.IoStatus.Information = 0;
        }
        else if (irp.CurrentLocation == location)
        {
            ForceComplete(irp, NtStatus.STATUS_DRIVER_INTERNAL_ERROR);
        }
        return NtStatus.STATUS_DRIVER_INTERNAL_ERROR;
    }

    /// <summary>Completes an IRP a faulted driver will not: it is never reused, and the driver's own late completion is ignored.</summary>
    private void ForceComplete(Irp irp, NtStatus status)
    {
        irp.ForceCompleted = true;
        Interlocked.Exchange(ref irp.CancelRoutineField, null);
        irp.IoStatus.Status = status;
        irp.IoStatus.Information = 0;
        CompleteRequest(irp, 0);
    }

    /// <summary>Writes the bug check and isolates the driver.</summary>
    private void VerifierViolation(BugCheckCode code, ulong p1, ulong p2, ulong p3, ulong p4, DriverObject driver, Irp? irp,
        IrpMajorFunction major, uint ioctl, string detail)
    {
        driver.Faulted = true;
        BugCheckIrp? request = null;
        if (irp is not null)
        {
            var described = BugCheck.Describe(irp);
            request = described is null ? null : described with
            {
                Major = major.ToString(),
                IoControlCode = major is IrpMajorFunction.IRP_MJ_DEVICE_CONTROL or IrpMajorFunction.IRP_MJ_INTERNAL_DEVICE_CONTROL ? ioctl : 0,
            };
        }
        _bugCheck.Report(code, p1, p2, p3, p4, driver, request, detail, null);
    }

    private void VerifierViolation(BugCheckCode code, ulong p1, ulong p2, ulong p3, ulong p4, DriverObject driver, Irp? irp, string detail)
    {
        driver.Faulted = true;
        _bugCheck.Report(code, p1, p2, p3, p4, driver, DescribeNow(irp), detail, null);
    }

    /// <summary>The IRP for a record: from its stack, or, once completed, from what the dispatch routine running on this thread was called for.</summary>
    private static BugCheckIrp? DescribeNow(Irp? irp)
    {
        var described = BugCheck.Describe(irp);
        if (irp is null || described is null || !DriverVerifier.TryDispatched(irp, out var major, out var ioctl)) return described;
        return described with
        {
            Major = major.ToString(),
            IoControlCode = major is IrpMajorFunction.IRP_MJ_DEVICE_CONTROL or IrpMajorFunction.IRP_MJ_INTERNAL_DEVICE_CONTROL ? ioctl : 0,
        };
    }

    /// <summary>
    /// IoCompleteRequest by a verified driver: no STATUS_PENDING as a final status, no cancel routine
    /// left set. Returns false when the completion must not go on (an IRP completed for its driver already).
    /// </summary>
    private void VerifyCompletion(DriverObject driver, Irp irp)
    {
        if (irp.IoStatus.Status == NtStatus.STATUS_PENDING)
        {
            VerifierViolation(BugCheckCode.DRIVER_VERIFIER_IOMANAGER_VIOLATION, IoCompletedWithPending, irp.IoStatus.Status.Code,
                BugCheck.AddressOf(irp), 0, driver, irp, "IoCompleteRequest with STATUS_PENDING as the final status");
            irp.IoStatus.Status = NtStatus.STATUS_DRIVER_INTERNAL_ERROR;
            irp.IoStatus.Information = 0;
        }
        if (Volatile.Read(ref irp.CancelRoutineField) is { } routine)
        {
            VerifierViolation(BugCheckCode.DRIVER_VERIFIER_IOMANAGER_VIOLATION, IoCompletedWithCancelRoutine, BugCheck.AddressOf(routine),
                BugCheck.AddressOf(irp), 0, driver, irp, "IoCompleteRequest with the IRP's cancel routine still set");
        }
    }

    /// <summary>The driver to blame for something done to <paramref name="irp"/> now: the verified driver running, else the one that completed it.</summary>
    private static DriverObject? Culprit(Irp irp) => DriverVerifier.Current ?? irp.CompletedBy;

    /// <summary>A second IoCompleteRequest: 0x44 always (Windows checks this without the verifier), and the driver is isolated.</summary>
    private void CompletedTwice(Irp irp)
    {
        if (irp.ForceCompleted)
        {
            // The driver faulted and the I/O manager completed the IRP for it; this is its late completion.
            LogVerifier("a faulted driver completed an IRP the I/O manager had already completed for it; ignored");
            return;
        }
        var driver = Culprit(irp);
        if (driver is not null) driver.Faulted = true;
        _bugCheck.Report(BugCheckCode.MULTIPLE_IRP_COMPLETE_REQUESTS, BugCheck.AddressOf(irp), 0, 0, 0, driver, DescribeNow(irp),
            "IoCompleteRequest on an IRP that was already completed", null);
        if (driver is not null && ReferenceEquals(driver, DriverVerifier.Current))
            throw new VerifierStopException("MULTIPLE_IRP_COMPLETE_REQUESTS");
    }

    /// <summary>A Ddk routine touched a completed IRP: a verified driver is stopped (the IRP is as good as freed memory).</summary>
    public void IrpUsedAfterCompletion(Irp irp, string routine)
    {
        if (irp.ForceCompleted) throw new VerifierStopException($"{routine} on an IRP completed for a faulted driver");
        var driver = Culprit(irp);
        if (driver is null || !driver.Verified) return;
        VerifierViolation(BugCheckCode.DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL, BugCheck.AddressOf(irp), 0, 0, 0, driver, irp,
            $"{routine} on an IRP after it was completed (the IRP belongs to the I/O manager once IoCompleteRequest is called)");
        throw new VerifierStopException($"{routine} on a completed IRP");
    }

    /// <summary>IoCancelIrp on an IRP a verified driver holds: it has <see cref="DriverVerifier.CancelTimeout"/> to complete it.</summary>
    private void WatchCancelled(Irp irp)
    {
        var incarnation = irp.Incarnation;
        _ = Task.Delay(Verifier.CancelTimeout).ContinueWith(_ => CancelDeadline(irp, incarnation), TaskScheduler.Default);
    }

    private void CancelDeadline(Irp irp, int incarnation)
    {
        if (irp.Incarnation != incarnation || Volatile.Read(ref irp.CompletedFlag) != 0 || irp.ForceCompleted) return;
        var location = irp.CurrentLocation;
        var driver = location >= 1 && location <= irp.StackCount ? irp.StackAt(location).DeviceObject?.DriverObject : null;
        if (driver is null || !driver.Verified) return;
        using var scope = KernelRuntime.Enter(Runtime);
        VerifierViolation(BugCheckCode.DRIVER_VERIFIER_IOMANAGER_VIOLATION, IoVerifierUnknown, BugCheck.AddressOf(irp),
            (ulong)Verifier.CancelTimeout.TotalMilliseconds, 0, driver, irp,
            $"the IRP was not completed within {Verifier.CancelTimeout.TotalMilliseconds:F0} ms of its cancellation; the I/O manager completed it with STATUS_CANCELLED");
        if (irp.Incarnation == incarnation && Volatile.Read(ref irp.CompletedFlag) == 0) ForceComplete(irp, NtStatus.STATUS_CANCELLED);
    }

    /// <summary>
    /// After a verified driver's DriverUnload: IRPs it still holds are reported
    /// (DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS) and completed with STATUS_CANCELLED;
    /// object references it never released are reported (0xC4) and released, so nothing stays behind.
    /// </summary>
    public void VerifyUnload(DriverObject driver)
    {
        if (!driver.Verified) return;
        var held = Verifier.HeldBy(driver);
        if (held.Count > 0)
        {
            VerifierViolation(BugCheckCode.DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS, (ulong)held.Count, 0, 0, 0, driver, held[0],
                $"the driver unloaded holding {held.Count} IRP(s) it never completed; the I/O manager completed them with STATUS_CANCELLED");
            foreach (var irp in held)
                if (Volatile.Read(ref irp.CompletedFlag) == 0) ForceComplete(irp, NtStatus.STATUS_CANCELLED);
        }
        var leaks = Verifier.TakeLeaks(driver);
        if (leaks.Count > 0)
        {
            var total = leaks.Sum(l => l.Count);
            var what = string.Join(", ", leaks.Select(l => $"{l.Object.ObjectType.Name} x{l.Count}"));
            VerifierViolation(BugCheckCode.DRIVER_VERIFIER_DETECTED_VIOLATION, VerifierLeakAtUnload, 0, (ulong)total, 0, driver, null,
                $"the driver unloaded without releasing {total} object reference(s) it took ({what}); the kernel released them");
            foreach (var (obj, count) in leaks)
                for (var i = 0; i < count; i++) _ob.Dereference(obj);
        }
    }

    /// <summary>0x312 for a request that finishes away from its caller's thread (the caller's process is named from the request).</summary>
    public void InformationTooLarge(DriverObject driver, Irp irp, long information, int outputLength, Ps.ProcessObject? process)
    {
        driver.Faulted = true;
        var request = BugCheck.Describe(irp);
        if (request is not null && process is not null) request = request with { ProcessId = process.ProcessId, ProcessName = process.ImageName };
        _bugCheck.Report(BugCheckCode.DRIVER_VERIFIER_IOMANAGER_VIOLATION, IoInformationTooLarge, BugCheck.AddressOf(irp), (ulong)information,
            (ulong)outputLength, driver, request, $"the IRP completed with Information {information} but the caller's output buffer holds {outputLength} bytes", null);
    }
}
