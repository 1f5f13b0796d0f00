using System.Globalization;
using System.Runtime.InteropServices;
using KernelBridge.Samples.Scanner;

// The user half of the scanner sample (Windows-driver-samples' scanuser): answers the Scanner
// minifilter, which asks before a file of a scanned type is opened or written and after one was
// written and closed. A file whose content holds a pattern is "infected": its open is denied.
//   Scanner [--threads N] [--requests N] [--pattern TEXT]... [--extensions txt,doc,...]
// Runs until Ctrl-C or SIGTERM (or until the kernel goes); prints one line per verdict.
var threads = 2;
var requests = 5;
var patterns = new List<string>();
var extensions = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--threads" when value is not null: threads = Math.Clamp(int.Parse(value, CultureInfo.InvariantCulture), 1, 64); i++; break;
        case "--requests" when value is not null: requests = Math.Clamp(int.Parse(value, CultureInfo.InvariantCulture), 1, 64); i++; break;
        case "--pattern" when value is not null: patterns.Add(value); i++; break;
        case "--extensions" when value is not null: extensions.AddRange(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); i++; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}; usage: Scanner [--threads N] [--requests N] [--pattern TEXT]... [--extensions txt,doc]");
            return 2;
    }
}
if (patterns.Count == 0) patterns.Add("foul"); // the original sample's one signature

var service = new ScannerService(new ScanPatterns(patterns), Console.Out);
var hr = service.Connect(extensions);
if (hr != 0)
{
    Console.Error.WriteLine($"could not connect to the scanner port: HRESULT 0x{hr:X8}");
    return 1;
}
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
{
    context.Cancel = true;
    service.Stop();
});
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    service.Stop();
});
Console.WriteLine($"connected to \\ScannerPort: {threads} threads, {requests} requests each, patterns {string.Join(", ", patterns)}");
service.Run(threads, requests);
Console.WriteLine($"stopped after {service.Handled} verdicts ({service.Infected} infected)");
return 0;
