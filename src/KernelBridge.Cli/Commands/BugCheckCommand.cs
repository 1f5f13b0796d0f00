using System.CommandLine;
using System.Globalization;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Abi.Diagnostics;
using KernelBridge.Client;
using KernelBridge.Platform;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// kbridge bugcheck [--json] [--show N] [--clear]: the instance's bug-check records — from the
/// running kernel (KbQueryBugChecks) or, when none runs, from its bugchecks directory. Never starts a kernel.
/// </summary>
internal static class BugCheckCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json("a JSON array of records (one object with --show)");
        var show = new Option<int?>("--show") { Description = "Print record number N in full (stop code, parameters, driver, IRP, detail, stack)", HelpName = "N" };
        var clear = new Option<bool>("--clear") { Description = "Delete the records (from a running kernel: needs the load-driver privilege)" };
        var command = new Command("bugcheck", "List the bug checks drivers caused (see docs/driver-verifier.md)");
        command.Options.Add(json);
        command.Options.Add(show);
        command.Options.Add(clear);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var instance = InstanceDirectory.Open(CommonOptions.InstanceName(parse), create: false);
            var gate = KernelPresence.ConnectIfRunning(instance, out _);
            IReadOnlyList<BugCheckRecord> records;
            var source = gate is null ? $"{instance.BugCheckDirectory} (no kernel running)" : $"the kernel of instance {instance.Instance}";
            using (gate)
            {
                if (parse.GetValue(clear))
                {
                    int cleared;
                    if (gate is null) cleared = BugChecks.ClearDirectory(instance.BugCheckDirectory);
                    else
                    {
                        try
                        {
                            cleared = BugChecks.Query(gate, clear: true).Records.Count;
                        }
                        catch (NtStatusException e) when (e.Status == NtStatus.STATUS_PRIVILEGE_NOT_HELD)
                        {
                            Console.Error.WriteLine("kbridge: clearing bug checks needs SeLoadDriverPrivilege (run as root)");
                            return 1;
                        }
                    }
                    Console.Out.WriteLine($"cleared {cleared} bug check record(s) from {source}");
                    return 0;
                }
                records = gate is null ? BugChecks.ReadDirectory(instance.BugCheckDirectory) : BugChecks.Query(gate).Records;
            }
            if (parse.GetValue(show) is { } number)
            {
                var record = records.FirstOrDefault(r => r.Number == number);
                if (record is null)
                {
                    Console.Error.WriteLine($"kbridge: no bug check number {number} in {source}");
                    return 1;
                }
                Console.Out.WriteLine(parse.GetValue(json) ? record.ToJson() : Format(record));
                return 0;
            }
            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(BugCheckRecord.ListToJson(records));
                return 0;
            }
            if (records.Count == 0)
            {
                Console.Out.WriteLine($"no bug checks in {source}");
                return 0;
            }
            // One line per record (whole, so it can be grepped); --show N prints one in full.
            foreach (var r in records)
            {
                Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"#{r.Number} {r.Time:yyyy-MM-dd HH:mm:ss} STOP 0x{r.Code:X8} {r.Name} ({Parameters(r)}) {r.Driver ?? "(none)"}{(r.Irp is null ? "" : " " + Irp(r.Irp))}: {r.Detail}"));
            }
            return 0;
        }));
        return command;
    }

    private static string Parameters(BugCheckRecord r) =>
        string.Create(CultureInfo.InvariantCulture, $"0x{r.Parameter1:X} 0x{r.Parameter2:X} 0x{r.Parameter3:X} 0x{r.Parameter4:X}");

    private static string Irp(BugCheckIrp irp) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{irp.Major}{(irp.IoControlCode != 0 ? $" ioctl 0x{irp.IoControlCode:X8}" : "")}{(irp.ProcessId != 0 ? $" pid {irp.ProcessId}" : "")}");

    /// <summary>One record in full, as the kernel's text report has it.</summary>
    public static string Format(BugCheckRecord r)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"bug check {r.Number} at {r.Time:O}");
        text.AppendLine(CultureInfo.InvariantCulture, $"STOP: 0x{r.Code:X8} ({r.Name})");
        text.AppendLine(CultureInfo.InvariantCulture, $"  parameters: {Parameters(r)}");
        if (r.Exception is not null) text.AppendLine(CultureInfo.InvariantCulture, $"  exception code {r.Exception}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  driver: {r.Driver ?? "(none)"}{(r.Verified ? " (verified)" : "")}");
        if (r.Irp is { } irp)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  IRP: {Irp(irp)} process {irp.ProcessName ?? "kernel"} thread {irp.ThreadId} status={irp.Status} info={irp.Information}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  detail: {r.Detail}");
        text.AppendLine(CultureInfo.InvariantCulture, $"  policy: {r.Policy}");
        if (r.Stack is { } stack)
        {
            text.AppendLine("  stack:");
            text.Append(stack);
        }
        return text.ToString();
    }
}
