using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Ex;

/// <summary>Stop codes with Windows' numbers.</summary>
internal enum BugCheckCode : uint
{
    KMODE_EXCEPTION_NOT_HANDLED = 0x1E,
    NO_MORE_IRP_STACK_LOCATIONS = 0x35,
    MULTIPLE_IRP_COMPLETE_REQUESTS = 0x44,
    SYSTEM_THREAD_EXCEPTION_NOT_HANDLED = 0x7E,
    DRIVER_UNLOADED_WITHOUT_CANCELLING_PENDING_OPERATIONS = 0xCE,
    DRIVER_VERIFIER_DETECTED_VIOLATION = 0xC4,
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
/// KeBugCheckEx, tamed: a driver fault writes a bug-check style report (stop code, driver, IRP,
/// stack) to the instance's bugchecks directory and the log. Under <see cref="FaultPolicy.Halt"/>
/// the kernel then stops.
/// </summary>
internal sealed partial class BugCheck(string reportDirectory, FaultPolicy policy, ILogger logger, Action<string> halt)
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public FaultPolicy Policy => policy;

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

    public string Report(BugCheckCode code, DriverObject? driver, Irp? irp, string detail, Exception? exception)
    {
        var number = Interlocked.Increment(ref _count);
        var text = new StringBuilder();
        text.AppendLine("*** KernelBridge bug check ***");
        text.AppendLine(CultureInfo.InvariantCulture, $"STOP: 0x{(uint)code:X8} ({code})");
        if (exception is not null)
            text.AppendLine(CultureInfo.InvariantCulture, $"  exception code {ExceptionCode(exception)}: {exception.GetType().FullName}: {exception.Message}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  driver: {driver?.DriverName ?? "(none)"}");
        if (irp is not null) text.AppendLine(CultureInfo.InvariantCulture, $"  IRP: {irp}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  detail: {detail}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  time: {DateTime.UtcNow:O}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  policy: {policy}");
        if (exception?.StackTrace is { } stack)
        {
            text.AppendLine("  stack:");
            text.AppendLine(stack);
        }
        var report = text.ToString();
        string path = "";
        try
        {
            Directory.CreateDirectory(reportDirectory);
            path = Path.Combine(reportDirectory, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{number:D3}-{code}.txt");
            File.WriteAllText(path, report);
        }
        catch (IOException)
        {
        }
        LogBugCheck((uint)code, code.ToString(), driver?.DriverName ?? "(none)", detail, path);
        if (policy == FaultPolicy.Halt) halt($"bug check 0x{(uint)code:X8} in {driver?.DriverName}: {detail}");
        return path;
    }

    [LoggerMessage(EventId = 900, Level = LogLevel.Critical, Message = "BUG CHECK 0x{Code:X8} {Name} in {Driver}: {Detail} (report: {Path})")]
    private partial void LogBugCheck(uint code, string name, string driver, string detail, string path);
}
