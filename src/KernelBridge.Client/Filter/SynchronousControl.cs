using KernelBridge.Abi;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Client.Filter;

/// <summary>
/// A device control on a port handle (an overlapped-capable file) that blocks its thread until the
/// end, as FltLib does with a null OVERLAPPED: the request carries an event of this thread's, and a
/// request that pends is waited for on that event, never on the file (other threads' requests on the
/// same handle signal the file). Both calls are ordinary blocking calls, so the waiting thread reads
/// its own results and, spinning briefly, needs no other thread to wake it. One event per thread and
/// connection, kept for the thread's life.
/// </summary>
internal static unsafe class SynchronousControl
{
    [ThreadStatic] private static GateClient? _eventGate;
    [ThreadStatic] private static nint _event;

    /// <summary>NtDeviceIoControlFile, waited for: the final status, the IOSB written.</summary>
    public static NtStatus Call(nint file, uint code, void* input, uint inputLength, void* output, uint outputLength, IO_STATUS_BLOCK* iosb)
    {
        var gate = GateClient.Current;
        if (!ReferenceEquals(_eventGate, gate) || _event == 0)
        {
            nint created;
            var made = Ntdll.NtCreateEvent(&created, AccessMask.EVENT_ALL_ACCESS, new ObjectAttributes(null, 0), EventType.SynchronizationEvent, false);
            if (!made.IsSuccess) return made;
            (_eventGate, _event) = (gate, created);
        }
        iosb->Status = NtStatus.STATUS_PENDING.Value;
        var status = Ntdll.NtDeviceIoControlFile(file, _event, 0, 0, iosb, code, input, inputLength, output, outputLength);
        if (status != NtStatus.STATUS_PENDING) return status;
        while (Volatile.Read(ref iosb->Status) == NtStatus.STATUS_PENDING.Value)
        {
            var waited = Ntdll.NtWaitForSingleObject(_event, false, null);
            if (waited.IsError) return waited;
        }
        return iosb->NtStatus;
    }
}
