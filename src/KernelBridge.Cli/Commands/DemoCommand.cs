using System.CommandLine;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Drivers.Echo;
using KernelBridge.Platform;
using Spectre.Console;

namespace KernelBridge.Cli.Commands;

/// <summary>One stop of the tour.</summary>
internal sealed record DemoStep(string Title, string Call, NtStatus Status, long Bytes, byte[] Output, string Explanation)
{
    public object ToJson() => new
    {
        step = Title,
        call = Call,
        status = CommonOptions.StatusHex(Status),
        statusName = Status.Name ?? CommonOptions.StatusHex(Status),
        win32 = (uint)StatusMapping.RtlNtStatusToDosError(Status),
        bytes = Bytes,
        output = CommonOptions.Hex(Output),
        explanation = Explanation,
    };
}

/// <summary>
/// kbridge demo: a guided tour through a real kernel process. Starts (or finds) the kernel, opens
/// Echo, and shows each transfer method, an overflow, an access denial, a bad path, the event
/// sample's inverted call and the third door (a section, a driver-mapped buffer, a shared channel). A kernel the tour started, it stops at the end (unless others use it),
/// so that what the reader runs next — `kbridge kernel --persistent`, say — finds the instance free.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var json = CommonOptions.Json();
        var command = new Command("demo", "The tour, in 21 steps: the kernel, opening Echo, Echo's four transfer methods, an overflow, an access denial, "
            + "a bad path, the event sample's inverted call (IRP-based, cancelled with CancelIoEx, event-based), and shared memory: a section and "
            + "two views, a buffer a driver maps into the caller, and a shared channel's rate with small and large records; and messages: a scanner "
            + "service on a filter communication port deciding which files on \\.\\RamFs may open; and security: this process's token, and a DACL "
            + "refusing a right. Stops a kernel it started.");
        command.Options.Add(json);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            var instance = InstanceDirectory.Open(CommonOptions.InstanceName(parse), create: true);
            var wasRunning = File.Exists(instance.SocketPath) && !KernelPresence.IsStaleSocket(instance.SocketPath);
            using var gate = GateClient.Connect(instance.Instance);
            using var scope = GateClient.Use(gate);
            List<DemoStep> steps;
            var stopped = false;
            try
            {
                steps = Run(gate, instance.Instance, wasRunning);
            }
            finally
            {
                if (!wasRunning) stopped = StopIfOnlyClient(gate, instance);
            }
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new { instance = instance.Instance, kernelPid = gate.KernelProcessId, kernelStopped = stopped, steps = steps.Select(s => s.ToJson()) });
                return 0;
            }
            foreach (var (step, index) in steps.Select((s, i) => (s, i + 1))) Print(step, index);
            if (stopped) AnsiConsole.MarkupLine($"The tour stopped the kernel it started (pid {gate.KernelProcessId}).");
            return 0;
        }));
        return command;
    }

    private static List<DemoStep> Run(GateClient gate, string instance, bool wasRunning)
    {
        var steps = new List<DemoStep>();
        var state = KernelControl.QueryState(gate);
        steps.Add(new DemoStep("The kernel", $"connect to instance '{instance}'", NtStatus.STATUS_SUCCESS, 0, [],
            (wasRunning ? "A kernel was already running" : "No kernel was running, so this client started one (as Wine starts wineserver; the tour stops it at the end)")
            + $": pid {state.KernelProcessId}, {state.Drivers} drivers, {state.Objects} objects. This process is now a client with its own handle table; "
            + "every call below crosses a Unix socket into that process."));

        using (var echo = DeviceFile.Open(EchoInterface.Win32Name, gate: gate))
        {
            steps.Add(new DemoStep("Open Echo", @"CreateFile(""\\.\Echo"", GENERIC_READ | GENERIC_WRITE)", NtStatus.STATUS_SUCCESS, 0, [],
                $@"\\.\Echo became \??\Echo, a symbolic link to {echo.QueryObjectName()}. The driver saw one IRP_MJ_CREATE and gave this file object its own state (FsContext). Handle value: 0x{echo.Handle.Value:X}."));

            var hello = Encoding.ASCII.GetBytes("hello, kernel");
            steps.Add(Ioctl(echo, EchoInterface.IOCTL_ECHO_BUFFERED, hello, 64, "METHOD_BUFFERED echo",
                "The I/O manager copied the input into one system buffer of max(in, out) bytes; the driver wrote its answer over it and the I/O manager copied Information bytes back."));

            var message = Encoding.ASCII.GetBytes("a message, carried the direct way");
            steps.Add(InDirect(echo, message));
            steps.Add(Ioctl(echo, EchoInterface.IOCTL_ECHO_OUT_DIRECT, hello, 64, "METHOD_OUT_DIRECT echo",
                "The input was buffered, but the output buffer was described by an MDL: the driver wrote straight into this process's buffer."));
            steps.Add(Ioctl(echo, EchoInterface.IOCTL_ECHO_NEITHER, hello, 64, "METHOD_NEITHER echo",
                "No buffering, no MDL: the driver got the caller's buffers themselves (Type3InputBuffer and UserBuffer), trusted to treat them with care."));

            var alphabet = Encoding.ASCII.GetBytes("abcdefghijklmnopqrstuvwxyz");
            steps.Add(Ioctl(echo, EchoInterface.IOCTL_ECHO_BUFFERED, alphabet, 10, "Overflow",
                "26 bytes into a 10-byte buffer: the driver copied what fit and completed with STATUS_BUFFER_OVERFLOW, a warning. The data still came back "
                + "(bytes returned = 10) but DeviceIoControl returns FALSE with ERROR_MORE_DATA (234)."));
        }

        using (var readOnly = DeviceFile.Open(EchoInterface.Win32Name, AccessMask.GENERIC_READ, gate))
        {
            var prefix = Encoding.ASCII.GetBytes("> ");
            var code = EchoInterface.IOCTL_ECHO_SET_PREFIX;
            steps.Add(Raw(readOnly, code.Value, prefix, 0, "Access denied",
                $"{code} asks for FILE_WRITE_ACCESS in bits 14-15 of the code; this handle was opened with GENERIC_READ only, so the I/O manager refused "
                + "before any IRP was built: STATUS_ACCESS_DENIED, ERROR_ACCESS_DENIED (5)."));
        }

        try
        {
            using var missing = DeviceFile.Open(@"\\.\NoSuchDevice", gate: gate);
        }
        catch (NtStatusException e)
        {
            steps.Add(new DemoStep("A bad path", @"CreateFile(""\\.\NoSuchDevice"")", e.Status, 0, [],
                @"\??\NoSuchDevice is not in the namespace: STATUS_OBJECT_NAME_NOT_FOUND, which CreateFile reports as ERROR_FILE_NOT_FOUND (2). (`kbridge obj \??` lists what is there.)"));
        }
        steps.AddRange(InvertedCall.Run(gate));
        steps.AddRange(SharedMemoryTour.Run(gate));
        steps.AddRange(ScannerTour.Run(gate));
        steps.AddRange(SecurityTour.Run(gate));
        return steps;
    }

    /// <summary>Stops the kernel the tour started, unless it became persistent or others use it now; true if it stopped.</summary>
    private static bool StopIfOnlyClient(GateClient gate, InstanceDirectory instance)
    {
        try
        {
            var state = KernelControl.QueryState(gate);
            return !state.Persistent && state.Clients == 1 && KernelStopCommand.StopAndWait(gate, instance);
        }
        catch (NtStatusException)
        {
            return false; // gone already
        }
    }

    private static DemoStep Ioctl(DeviceFile device, CtlCode code, byte[] input, int outputSize, string title, string explanation) =>
        Raw(device, code.Value, input, outputSize, title, explanation);

    private static unsafe DemoStep Raw(DeviceFile device, uint code, byte[] input, int outputSize, string title, string explanation)
    {
        var output = new byte[outputSize];
        IO_STATUS_BLOCK iosb = default;
        NtStatus status;
        fixed (byte* inPointer = input)
        fixed (byte* outPointer = output)
        {
            status = Ntdll.NtDeviceIoControlFile(device.Handle.Value, 0, 0, 0, &iosb, code, inPointer, (uint)input.Length,
                outputSize == 0 ? null : outPointer, (uint)outputSize);
        }
        var bytes = status.IsError ? 0 : (int)iosb.Information;
        return new DemoStep(title, $"DeviceIoControl({new CtlCode(code)}, in: \"{Encoding.ASCII.GetString(input)}\", out: {outputSize} bytes)",
            status, bytes, output[..Math.Min(bytes, outputSize)], explanation);
    }

    private static DemoStep InDirect(DeviceFile echo, byte[] message)
    {
        // METHOD_IN_DIRECT: data flows to the driver through the *output* buffer.
        var buffer = (byte[])message.Clone();
        var result = echo.IoControl(EchoInterface.IOCTL_ECHO_IN_DIRECT, [], buffer);
        var back = new byte[128];
        var read = echo.Read(back);
        return new DemoStep("METHOD_IN_DIRECT", $"DeviceIoControl({EchoInterface.IOCTL_ECHO_IN_DIRECT}, out: \"{Encoding.ASCII.GetString(message)}\"), then ReadFile",
            result.Status, read, back[..read],
            $"With IN_DIRECT the driver reads the caller's output buffer through an MDL; Echo stored it as this file's message ({result.Information} bytes), and ReadFile returned it.");
    }

    private static void Print(DemoStep step, int index)
    {
        AnsiConsole.Write(new Rule($"[bold]{index}. {Markup.Escape(step.Title)}[/]").LeftJustified());
        AnsiConsole.MarkupLine($"[grey]call:[/]   {Markup.Escape(step.Call)}");
        var color = step.Status.IsError ? "red" : step.Status.IsWarning ? "yellow" : "green";
        var win32 = StatusMapping.RtlNtStatusToDosError(step.Status);
        AnsiConsole.MarkupLine($"[grey]status:[/] [{color}]{Markup.Escape(step.Status.Name ?? "?")}[/] ({CommonOptions.StatusHex(step.Status)}), Win32 {StatusMapping.Name(win32)} ({(uint)win32}), {step.Bytes} bytes");
        if (step.Output.Length > 0) AnsiConsole.MarkupLine($"[grey]output:[/] \"{Markup.Escape(IoctlResult.Printable(step.Output))}\"");
        AnsiConsole.MarkupLine(Markup.Escape(step.Explanation));
        AnsiConsole.WriteLine();
    }
}
