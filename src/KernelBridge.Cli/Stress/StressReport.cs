using System.Globalization;
using System.Text.Json.Serialization;

namespace KernelBridge.Cli.Stress;

/// <summary>One operation's totals over the whole run.</summary>
internal sealed record StressOperationTotals(string Operation, long Done, long Errors, long Busy);

/// <summary>What objects the kernel still held after every worker had gone, against the baseline before them.</summary>
internal sealed record StressLeaks(int Objects, int Handles, int PendingIrps, int Views)
{
    [JsonIgnore]
    public bool Any => Objects != 0 || Handles != 0 || PendingIrps != 0 || Views != 0;
}

/// <summary>What `kbridge stress` found; printed as text or as one JSON object.</summary>
internal sealed record StressReport(
    int Processes, int Threads, double Seconds, string Gate, long Operations, long Errors, long Busy, long P50Nanoseconds, long P99Nanoseconds,
    long KernelResidentBefore, long KernelResidentAfter, StressLeaks Leaked, int WorkersLost, IReadOnlyList<StressOperationTotals> PerOperation,
    IReadOnlyList<string> FirstErrors)
{
    public long KernelResidentGrowth => KernelResidentAfter - KernelResidentBefore;

    public bool Passed => Errors == 0 && WorkersLost == 0 && !Leaked.Any;

    public void PrintText(TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(c, $"kbridge stress: {Processes} processes x {Threads} threads for {Seconds:0.0} s on the {Gate} gate"));
        output.WriteLine(string.Create(c, $"  operations  {Operations:N0} ({Operations / Math.Max(Seconds, 0.001):N0}/s), errors {Errors:N0}, port found busy {Busy:N0}"));
        foreach (var o in PerOperation)
            output.WriteLine(string.Create(c, $"    {o.Operation,-13}{o.Done,12:N0} done {o.Errors,6:N0} errors{(o.Busy > 0 ? $" {o.Busy:N0} busy" : "")}"));
        output.WriteLine($"  latency     p50 {Duration(P50Nanoseconds)}, p99 {Duration(P99Nanoseconds)}");
        output.WriteLine($"  kernel RSS  {Mebibytes(KernelResidentBefore)} before, {Mebibytes(KernelResidentAfter)} after ({(KernelResidentGrowth >= 0 ? "+" : "")}{Mebibytes(KernelResidentGrowth)})");
        output.WriteLine(string.Create(c, $"  leaked      objects {Leaked.Objects}, handles {Leaked.Handles}, IRPs {Leaked.PendingIrps}, views {Leaked.Views}"));
        if (WorkersLost > 0) output.WriteLine(string.Create(c, $"  {WorkersLost} worker(s) ended without reporting"));
        foreach (var error in FirstErrors) output.WriteLine($"  error: {error}");
        output.WriteLine(SummaryLine());
    }

    /// <summary>The one line CI prints.</summary>
    public string SummaryLine() => string.Create(CultureInfo.InvariantCulture,
        $"stress {(Passed ? "PASSED" : "FAILED")}: {Operations} operations, {Errors} errors, p50 {Duration(P50Nanoseconds)}, p99 {Duration(P99Nanoseconds)}, "
        + $"kernel RSS {(KernelResidentGrowth >= 0 ? "+" : "")}{Mebibytes(KernelResidentGrowth)}, leaked {Leaked.Objects} objects {Leaked.Handles} handles "
        + $"{Leaked.PendingIrps} IRPs {Leaked.Views} views ({Processes} processes x {Threads} threads, {Seconds:0} s, {Gate} gate)");

    private static string Duration(long nanoseconds) => nanoseconds switch
    {
        < 10_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1000.0:0.0} µs"),
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1000.0:0} µs"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1e6:0.0} ms"),
    };

    private static string Mebibytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB");
}
