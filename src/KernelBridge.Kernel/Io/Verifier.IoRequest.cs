using KernelBridge.Kernel.Ex;

namespace KernelBridge.Kernel.Io;

internal sealed partial class IoRequest
{
    /// <summary>
    /// The I/O verifier's 0x312: a verified driver completed a buffered or direct transfer with more
    /// Information than the caller's output buffer holds. The request fails (nothing is copied back).
    /// </summary>
    private void VerifyInformation(ref NtStatus status, ref long information)
    {
        if (Kind is not (IoRequestKind.Read or IoRequestKind.DeviceControl) || information <= OutputLength || status.IsError) return;
        var direct = WholeOutputGoesBack && Irp.MdlAddress is not null;
        if (!BufferedCopyBack && !direct) return;
        if (Irp.CompletedBy is not { Verified: true } driver || Irp.ForceCompleted) return;
        io.InformationTooLarge(driver, Irp, information, OutputLength, Process);
        status = NtStatus.STATUS_DRIVER_INTERNAL_ERROR;
        information = 0;
        if (_dispatchStatus != NtStatus.STATUS_PENDING) _dispatchStatus = status;
    }
}
