using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.Drivers.Scanner;

namespace KernelBridge.Cli.Commands;

/// <summary>
/// The tour's scanner part: a scanner service (a second connection of this process, so a process
/// of its own to the kernel) answers the Scanner minifilter over \ScannerPort while this process
/// opens files on \\.\RamFs.
/// </summary>
internal static unsafe class ScannerTour
{
    private const string Pattern = "foul";

    public static List<DemoStep> Run(GateClient gate)
    {
        using var scope = GateClient.Use(gate);
        var directory = $@"\\.\RamFs\demo-{Environment.ProcessId}-{Environment.TickCount64 % 100000}";
        Kernel32.CreateDirectory(directory, 0);
        // Written before any service listens: the scanner's default policy lets unscanned files through.
        Plant($@"{directory}\letter.txt", "Dear reader, nothing to see here.");
        Plant($@"{directory}\eicar.txt", $"this file is {Pattern}");

        var clientsBefore = KernelControl.QueryState(gate).Clients;
        var service = GateClient.Connect(gate.Instance, autoStart: false);
        var connected = Connect(service, out var port);
        var verdicts = new List<string>();
        var answering = connected == FltLib.S_OK ? StartAnswering(service, port, verdicts) : null;
        var steps = new List<DemoStep>
        {
            new("A scanner service connects", @"FilterConnectCommunicationPort(""\ScannerPort"")", connected == 0 ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_UNSUCCESSFUL,
                0, [], "A second connection of this process (a process of its own to the kernel) connects to the Scanner minifilter's communication port "
                + "and waits in FilterGetMessage. From now on the filter asks it before a .txt, .doc, .bat, .cmd or .inf file on a file-system volume opens."),
        };
        steps.Add(Open(directory, "letter.txt", "A clean file opens", verdicts));
        steps.Add(Open(directory, "eicar.txt", "An infected file is denied", verdicts));
        // The service's connection ends: its FilterGetMessage fails and its thread ends.
        service.Dispose();
        answering?.Join(TimeSpan.FromSeconds(5));
        WaitForRundown(gate, clientsBefore);
        return steps;
    }

    /// <summary>Until the kernel has run the service's connection down (the tour then finds itself the only client again), 5 s at most.</summary>
    private static void WaitForRundown(GateClient gate, int clientsBefore)
    {
        var deadline = Environment.TickCount64 + 5000;
        while (KernelControl.QueryState(gate).Clients > clientsBefore && Environment.TickCount64 < deadline) Thread.Sleep(10);
    }

    private static int Connect(GateClient service, out nint port)
    {
        using var scope = GateClient.Use(service);
        return FltLib.FilterConnectCommunicationPort(ScannerInterface.PortName, 0, [], 0, 0, out port);
    }

    /// <summary>The service's loop: FilterGetMessage, look for the pattern, FilterReplyMessage; until its connection ends.</summary>
    private static Thread StartAnswering(GateClient service, nint port, List<string> verdicts)
    {
        var thread = new Thread(() =>
        {
            using var scope = GateClient.Use(service);
            var message = new byte[FilterPortLimits.MaxMessageSize];
            var reply = new byte[FilterPortLimits.HeaderSize + ScannerInterface.ReplySize];
            while (FltLib.FilterGetMessage(port, message) == FltLib.S_OK)
            {
                var notification = System.Runtime.InteropServices.MemoryMarshal.Read<ScannerNotification>(message.AsSpan(FilterPortLimits.HeaderSize));
                var content = message.AsSpan(FilterPortLimits.HeaderSize + ScannerInterface.NotificationSize, (int)notification.BytesToScan);
                var infected = Encoding.UTF8.GetString(content).Contains(Pattern, StringComparison.OrdinalIgnoreCase);
                lock (verdicts) verdicts.Add($"{notification.Reason}, {content.Length} bytes: {(infected ? "infected" : "clean")}");
                message.AsSpan(8, 8).CopyTo(reply.AsSpan(8)); // FILTER_REPLY_HEADER.MessageId = FILTER_MESSAGE_HEADER.MessageId
                BitConverter.TryWriteBytes(reply.AsSpan(FilterPortLimits.HeaderSize), infected ? 0u : 1u);
                FltLib.FilterReplyMessage(port, reply);
            }
        }) { IsBackground = true, Name = "demo scanner service" };
        thread.Start();
        return thread;
    }

    private static DemoStep Open(string directory, string name, string title, List<string> verdicts)
    {
        var path = $@"{directory}\{name}";
        var handle = Kernel32.CreateFile(path, 0x80000000, 7, 0, CreationDisposition.OPEN_EXISTING, 0, 0);
        var error = handle == Kernel32.INVALID_HANDLE_VALUE ? Kernel32.GetLastError() : 0;
        if (handle != Kernel32.INVALID_HANDLE_VALUE) Kernel32.CloseHandle(handle);
        string verdict;
        lock (verdicts) verdict = verdicts.Count > 0 ? verdicts[^1] : "no verdict";
        var status = error == 0 ? NtStatus.STATUS_SUCCESS : NtStatus.STATUS_ACCESS_DENIED;
        return new DemoStep(title, $@"CreateFile(""{path}"", GENERIC_READ)", status, 0, [],
            $"The create reached the RAM file system, then the Scanner's post-create callback read the file (FltReadFile) and sent it to the service "
            + $"(FltSendMessage, the open pended meanwhile); the service answered \"{verdict}\". "
            + (error == 0 ? "The handle is granted." : $"The filter cancelled the open (FltCancelFileOpen) and failed it: ERROR_ACCESS_DENIED ({error})."));
    }

    private static void Plant(string path, string text)
    {
        var handle = Kernel32.CreateFile(path, 0xC0000000, 7, 0, CreationDisposition.CREATE_ALWAYS, 0, 0);
        if (handle == Kernel32.INVALID_HANDLE_VALUE) return;
        Kernel32.WriteFile(handle, Encoding.UTF8.GetBytes(text), out _);
        Kernel32.CloseHandle(handle);
    }
}
