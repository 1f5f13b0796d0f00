using KernelBridge.Abi;

namespace KernelBridge.Ddk;

/// <summary>IRP flags the I/O manager sets (Irp->Flags).</summary>
[Flags]
public enum IrpFlags : uint
{
    None = 0,
    IRP_NOCACHE = 0x00000001,
    IRP_PAGING_IO = 0x00000002,
    IRP_SYNCHRONOUS_API = 0x00000004,
    IRP_BUFFERED_IO = 0x00000010,
    IRP_DEALLOCATE_BUFFER = 0x00000020,
    IRP_INPUT_OPERATION = 0x00000040,
    IRP_CREATE_OPERATION = 0x00000080,
    IRP_READ_OPERATION = 0x00000100,
    IRP_WRITE_OPERATION = 0x00000200,
    IRP_CLOSE_OPERATION = 0x00000400,
}

/// <summary>
/// An I/O request packet. The I/O manager builds one per request and sends it to the top of the
/// device's stack; each driver sees its own <see cref="IoStackLocation"/>.
/// </summary>
public sealed class Irp
{
    private IoStackLocation[] _stack;

    internal Irp(int stackSize)
    {
        _stack = NewStack(stackSize);
        StackCount = stackSize;
        CurrentLocation = stackSize + 1;
    }

    /// <summary>Final status and Information, set by whoever completes the IRP.</summary>
    public IoStatusBlock IoStatus;

    /// <summary>AssociatedIrp.SystemBuffer: the buffered-I/O copy of the caller's data.</summary>
    public Memory<byte> SystemBuffer { get; internal set; }

    /// <summary>The MDL describing the caller's buffer for direct I/O.</summary>
    public Mdl? MdlAddress { get; internal set; }

    /// <summary>The caller's buffer for neither-I/O (METHOD_NEITHER output, reads/writes without a buffering flag).</summary>
    public Memory<byte> UserBuffer { get; internal set; }

    /// <summary>The caller's address of <see cref="UserBuffer"/>.</summary>
    public ulong UserBufferAddress { get; internal set; }

    public IrpFlags Flags { get; internal set; }

    public ProcessorMode RequestorMode { get; internal set; } = ProcessorMode.UserMode;

    /// <summary>Set once someone asked to cancel this IRP.</summary>
    public bool Cancel => Volatile.Read(ref CancelFlag) != 0;

    /// <summary>Inside a completion routine: whether a lower driver returned STATUS_PENDING.</summary>
    public bool PendingReturned { get; internal set; }

    /// <summary>Tail.Overlay.DriverContext: four slots the current owner of the IRP may use.</summary>
    public object?[] DriverContext { get; } = new object?[4];

    /// <summary>The file object the request was issued on.</summary>
    public FileObject? OriginalFileObject { get; internal set; }

    /// <summary>The id of the user thread that issued the request (Tail.Overlay.Thread).</summary>
    public int ThreadId { get; internal set; }

    public int StackCount { get; private set; }

    /// <summary>1-based; StackCount + 1 before the IRP is first sent.</summary>
    public int CurrentLocation { get; internal set; }

    internal int CancelFlag;
    /// <summary>1 once IoCompleteRequest has run all the way (a second completion is a driver bug).</summary>
    internal int CompletedFlag;
    internal DriverCancel? CancelRoutineField;
    internal byte CancelIrql;

    // The driver verifier's view of the IRP (see docs/driver-verifier.md).
    /// <summary>The IRP went through a verified driver: when freed it waits in quarantine, so a late touch is still caught.</summary>
    internal bool Verified;
    /// <summary>The I/O manager completed it for a driver that would not: never reused, and the driver's late completion is ignored.</summary>
    internal bool ForceCompleted;
    /// <summary>Bit n: location n was marked pending (IoMarkIrpPending) when the completion passed it.</summary>
    internal long VerifierMarks;
    /// <summary>The driver that called IoCompleteRequest first.</summary>
    internal DriverObject? CompletedBy;
    /// <summary>Bumped at each reuse, so a watch set on one request never acts on the next.</summary>
    internal int Incarnation;
    /// <summary>What the IRP was sent to the first verified driver for (its stack locations are cleared as it completes).</summary>
    internal IrpMajorFunction VerifiedMajor;
    internal uint VerifiedIoControlCode;

    /// <summary>The I/O manager's final completion (IopCompleteRequest for this request).</summary>
    internal IIrpCompletionSink? CompletionSink;

    /// <summary>The kernel that allocated the IRP (where Io calls that name it go).</summary>
    internal IKernelRuntime? Runtime;

    internal IoStackLocation StackAt(int location) => _stack[location - 1];

    /// <summary>Makes a used IRP ready for a new request (lookaside reuse).</summary>
    internal void Reinitialize(int stackSize)
    {
        if (_stack.Length < stackSize) _stack = NewStack(stackSize);
        else foreach (var location in _stack) location.Clear();
        StackCount = stackSize;
        CurrentLocation = stackSize + 1;
        IoStatus = default;
        SystemBuffer = default;
        MdlAddress = null;
        UserBuffer = default;
        UserBufferAddress = 0;
        Flags = IrpFlags.None;
        RequestorMode = ProcessorMode.UserMode;
        CancelFlag = 0;
        CompletedFlag = 0;
        CancelRoutineField = null;
        PendingReturned = false;
        Array.Clear(DriverContext);
        OriginalFileObject = null;
        ThreadId = 0;
        CompletionSink = null;
        Verified = false;
        ForceCompleted = false;
        VerifierMarks = 0;
        CompletedBy = null;
        VerifiedMajor = 0;
        VerifiedIoControlCode = 0;
        Incarnation++;
    }

    private static IoStackLocation[] NewStack(int size)
    {
        var stack = new IoStackLocation[Math.Max(size, 1)];
        for (var i = 0; i < stack.Length; i++) stack[i] = new IoStackLocation();
        return stack;
    }

    public override string ToString() =>
        $"IRP {(CurrentLocation <= StackCount ? StackAt(CurrentLocation).MajorFunction.ToString() : "(not sent)")} status={IoStatus.Status} info={IoStatus.Information}";
}

/// <summary>What the I/O manager does when an IRP's completion has run all the way up.</summary>
internal interface IIrpCompletionSink
{
    void OnIrpCompleted(Irp irp);
}
