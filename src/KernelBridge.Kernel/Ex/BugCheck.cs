using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using KernelBridge.Abi.Diagnostics;
using KernelBridge.Kernel.Ps;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Ex;

/// <summary>Stop codes with Windows' numbers.</summary>
internal enum BugCheckCode : uint
{
    KMODE_EXCEPTION_NOT_HANDLED = 0x1E,
    NO_MORE_IRP_STACK_LOCATIONS = 0x35,
    MULTIPLE_IRP_COMPLETE_REQUESTS = 0x44,
    SYSTEM_THREAD_EXCEPTION_NOT_HANDLED = 0x7E,
    DRIVER_VERIFIER_DETECTED_VIOLATION = 0xC4,
    DRIVER_VERIFIER_IOMANAGER_VIOLATION = 0xC9,
    DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS = 0xCE,
    DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL = 0xD5,
}

/// <summary>What happens when a driver faults.</summary>
public enum FaultPolicy
{
    /// <summary>Fail the request, mark the driver faulted, keep the kernel running (the default).</summary>
    Isolate,
    /// <summary>Write the report and halt the kernel, as a real bug check would.</summary>
    Halt,
}

/// <summary>
/// KeBugCheckEx, tamed: a driver fault writes a bug-check record (stop code, four parameters,
/// driver, IRP, detail, stack) to the instance's bugchecks directory — a text report and its JSON
/// beside it — keeps it for KbQueryBugChecks, and logs it. Under <see cref="FaultPolicy.Halt"/>
/// the kernel then stops.
/// </summary>
internal sealed partial class BugCheck(string reportDirectory, FaultPolicy policy, ILogger logger, Action<string> halt)
{
    /// <summary>How many records are kept in memory (the files stay until cleared).</summary>
    public const int KeptRecords = 256;

    private readonly Lock _lock = new();
    private readonly Queue<BugCheckRecord> _records = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public FaultPolicy Policy => policy;

    public string Directory => reportDirectory;

    /// <summary>The NTSTATUS an exception would have raised in a real kernel.</summary>
    public static NtStatus ExceptionCode(Exception e) => e switch
    {
        NullReferenceException or AccessViolationException => NtStatus.STATUS_ACCESS_VIOLATION,
        IndexOutOfRangeException or ArgumentOutOfRangeException => (NtStatus)0xC000008Cu, // STATUS_ARRAY_BOUNDS_EXCEEDED
        DivideByZeroException => (NtStatus)0xC0000094u, // STATUS_INTEGER_DIVIDE_BY_ZERO
        OverflowException => (NtStatus)0xC0000095u, // STATUS_INTEGER_OVERFLOW
        StackOverflowException or InsufficientExecutionStackException => (NtStatus)0xC00000FDu, // STATUS_STACK_OVERFLOW
        _ => (NtStatus)0xE0434352u, // the CLR's exception code
    };

    /// <summary>What an IRP was for, from its current stack location (or <paramref name="at"/> when the caller saved it before the IRP moved on).</summary>
    public static BugCheckIrp? Describe(Irp? irp, IoStackLocation? at = null)
    {
        if (irp is null) return null;
        at ??= irp.CurrentLocation >= 1 && irp.CurrentLocation <= irp.StackCount ? irp.StackAt(irp.CurrentLocation) : null;
        // A completed IRP's locations are cleared: a verified one remembers what it was sent for.
        var function = at?.MajorFunction ?? (irp.Verified ? irp.VerifiedMajor : (IrpMajorFunction?)null);
        var major = function?.ToString() ?? "(completed)";
        var ioctl = function is IrpMajorFunction.IRP_MJ_DEVICE_CONTROL or IrpMajorFunction.IRP_MJ_INTERNAL_DEVICE_CONTROL
            ? at?.Parameters.DeviceIoControl.IoControlCode ?? irp.VerifiedIoControlCode : 0;
        var process = CurrentContext.Process;
        return new BugCheckIrp(major, ioctl, process?.ProcessId ?? 0, process?.ImageName, irp.ThreadId, irp.IoStatus.Status.ToString(), irp.IoStatus.Information);
    }

    /// <summary>A stand-in for an object's address in the parameters: stable for the object's life.</summary>
    public static ulong AddressOf(object? o) => o is null ? 0 : (ulong)(uint)RuntimeHelpers.GetHashCode(o);

    public string Report(BugCheckCode code, DriverObject? driver, Irp? irp, string detail, Exception? exception) =>
        Report(code, exception is null ? 0 : ExceptionCode(exception).Code, AddressOf(irp), 0, 0, driver, Describe(irp), detail, exception);

    public string Report(BugCheckCode code, ulong p1, ulong p2, ulong p3, ulong p4, DriverObject? driver, BugCheckIrp? request, string detail,
        Exception? exception)
    {
        var number = Interlocked.Increment(ref _count);
        var record = new BugCheckRecord
        {
            Number = number,
            Time = DateTime.UtcNow,
            Code = (uint)code,
            Name = code.ToString(),
            Parameter1 = p1,
            Parameter2 = p2,
            Parameter3 = p3,
            Parameter4 = p4,
            Driver = driver?.DriverName,
            Irp = request,
            Detail = detail,
            Exception = exception is null ? null : $"{ExceptionCode(exception)}: {exception.GetType().FullName}: {exception.Message}",
            // Where it was found: the exception's stack, or the detecting call's own (the driver's frames are on it when it was caught in the act).
            Stack = exception?.StackTrace ?? Environment.StackTrace,
            Policy = policy.ToString(),
            Verified = driver?.Verified ?? false,
        };
        lock (_lock)
        {
            _records.Enqueue(record);
            while (_records.Count > KeptRecords) _records.Dequeue();
        }
        var path = "";
        try
        {
            System.IO.Directory.CreateDirectory(reportDirectory);
            var stem = Path.Combine(reportDirectory, $"{record.Time:yyyyMMdd-HHmmss}-{number:D3}-{code}");
            File.WriteAllText(stem + ".json", record.ToJson());
            path = stem + ".txt";
            File.WriteAllText(path, Format(record));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        LogBugCheck((uint)code, code.ToString(), driver?.DriverName ?? "(none)", detail, path);
        if (policy == FaultPolicy.Halt) halt($"bug check 0x{(uint)code:X8} in {driver?.DriverName}: {detail}");
        return path;
    }

    /// <summary>The kept records, oldest first, and how many there have been.</summary>
    public (BugCheckRecord[] Records, int Total) Snapshot()
    {
        lock (_lock) return ([.. _records], Count);
    }

    /// <summary>Forgets the records and deletes their files.</summary>
    public void Clear()
    {
        lock (_lock) _records.Clear();
        try
        {
            if (!System.IO.Directory.Exists(reportDirectory)) return;
            foreach (var file in System.IO.Directory.EnumerateFiles(reportDirectory))
                if (file.EndsWith(".json", StringComparison.Ordinal) || file.EndsWith(".txt", StringComparison.Ordinal)) File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The text report: what a person reads (the JSON beside it is what tools read).</summary>
    public static string Format(BugCheckRecord record)
    {
        var text = new StringBuilder();
        text.AppendLine("*** KernelBridge bug check ***");
        text.AppendLine(CultureInfo.InvariantCulture, $"STOP: 0x{record.Code:X8} ({record.Name})");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"  parameters: 0x{record.Parameter1:X} 0x{record.Parameter2:X} 0x{record.Parameter3:X} 0x{record.Parameter4:X}");
        if (record.Exception is not null) text.AppendLine(CultureInfo.InvariantCulture, $"  exception code {record.Exception}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  driver: {record.Driver ?? "(none)"}{(record.Verified ? " (verified)" : "")}");
        if (record.Irp is { } irp)
        {
            text.Append(CultureInfo.InvariantCulture, $"  IRP: {irp.Major}");
            if (irp.IoControlCode != 0) text.Append(CultureInfo.InvariantCulture, $" ioctl 0x{irp.IoControlCode:X8}");
            text.AppendLine(CultureInfo.InvariantCulture,
                $" process {irp.ProcessId} ({irp.ProcessName ?? "kernel"}) thread {irp.ThreadId} status={irp.Status} info={irp.Information}");
        }
        text.AppendLine(CultureInfo.InvariantCulture, $"  detail: {record.Detail}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  time: {record.Time:O}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  policy: {record.Policy}");
        if (record.Stack is { } stack)
        {
            text.AppendLine("  stack:");
            text.AppendLine(stack);
        }
        return text.ToString();
    }

    [LoggerMessage(EventId = 900, Level = LogLevel.Critical, Message = "BUG CHECK 0x{Code:X8} {Name} in {Driver}: {Detail} (report: {Path})")]
    private partial void LogBugCheck(uint code, string name, string driver, string detail, string path);
}
