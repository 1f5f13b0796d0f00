using System.CommandLine;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;

namespace KernelBridge.Cli.Commands;

/// <summary>kbridge ioctl DEVICE CODE [--in HEX] [--out-size N] [--access r|w|rw] [--json].</summary>
internal static unsafe class IoctlCommand
{
    public static Command Create()
    {
        var device = new Argument<string>("DEVICE") { Description = @"\\.\Echo, Echo, or an NT name such as \Device\Echo" };
        var code = new Argument<string>("CODE") { Description = "The control code, hex (0x222000) or decimal" };
        var input = new Option<string?>("--in") { Description = "Input bytes as hex (\"68 69\" or 6869)" };
        var outSize = CheckedOptions.WholeNumber("--out-size", "Output buffer size in bytes, 0 for none", 0, WireProtocol.MaxTransferLength, 256);
        var access = new Option<string>("--access") { Description = "Open the device for r, w or rw (default rw)", DefaultValueFactory = _ => "rw" }.OneOf("r", "w", "rw");
        var json = CommonOptions.Json();
        var command = new Command("ioctl", "Send one DeviceIoControl and show status, Win32 error, bytes returned and output");
        command.Arguments.Add(device);
        command.Arguments.Add(code);
        command.Options.Add(input);
        command.Options.Add(outSize);
        command.Options.Add(access);
        command.Options.Add(json);
        command.SetAction(parse => CommonOptions.Guard(() =>
        {
            if (!CommonOptions.TryParseNumber(parse.GetValue(code)!, out var controlCode))
            {
                Console.Error.WriteLine($"kbridge: '{parse.GetValue(code)}' is not a control code (use hex like 0x222000 or decimal)");
                return 2;
            }
            byte[] inputBytes = [];
            if (parse.GetValue(input) is { } hex && !CommonOptions.TryParseHex(hex, out inputBytes))
            {
                Console.Error.WriteLine($"kbridge: --in '{hex}' is not hex bytes");
                return 2;
            }
            var desired = parse.GetValue(access) switch
            {
                "r" => AccessMask.GENERIC_READ,
                "w" => AccessMask.GENERIC_WRITE,
                _ => AccessMask.GENERIC_READ | AccessMask.GENERIC_WRITE,
            };
            using var gate = CommonOptions.Connect(parse);
            using var scope = GateClient.Use(gate);
            var result = Send(NormalizeDevice(parse.GetValue(device)!), desired, controlCode, inputBytes, parse.GetValue(outSize));
            if (parse.GetValue(json)) CommonOptions.PrintJson(result.ToJson());
            else result.Print(Console.Out);
            return result.Status.IsSuccess ? 0 : 1;
        }));
        return command;
    }

    /// <summary>"Echo" means \\.\Echo; anything with a backslash is taken as written.</summary>
    public static string NormalizeDevice(string device) => device.Contains('\\', StringComparison.Ordinal) ? device : @"\\.\" + device;

    /// <summary>Opens the device and sends the request; the result says what happened at each stage.</summary>
    public static IoctlResult Send(string device, uint desiredAccess, uint controlCode, byte[] input, int outputSize)
    {
        var ntName = Kernel32.DosPathToNtPath(device) ?? device;
        nint handle;
        IO_STATUS_BLOCK iosb = default;
        var status = Ntdll.NtCreateFile(&handle, desiredAccess | AccessMask.SYNCHRONIZE | AccessMask.FILE_READ_ATTRIBUTES, new ObjectAttributes(ntName), &iosb, 0,
            ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE, CreateDisposition.FILE_OPEN,
            CreateOptions.FILE_SYNCHRONOUS_IO_NONALERT | CreateOptions.FILE_NON_DIRECTORY_FILE);
        if (!status.IsSuccess) return new IoctlResult(device, controlCode, "open", status, 0, []);
        try
        {
            var output = new byte[outputSize];
            iosb = default;
            fixed (byte* inPointer = input)
            fixed (byte* outPointer = output)
            {
                status = Ntdll.NtDeviceIoControlFile(handle, 0, 0, 0, &iosb, controlCode, input.Length == 0 ? null : inPointer, (uint)input.Length,
                    outputSize == 0 ? null : outPointer, (uint)outputSize);
            }
            // DeviceIoControl reports bytes returned unless the status is an error.
            var bytes = status.IsError ? 0 : (int)Math.Min((ulong)iosb.Information, (ulong)outputSize);
            return new IoctlResult(device, controlCode, "ioctl", status, status.IsError ? 0 : (long)iosb.Information, output[..bytes]);
        }
        finally
        {
            Ntdll.NtClose(handle);
        }
    }
}

/// <summary>One ioctl's outcome, printable as text or JSON.</summary>
internal sealed record IoctlResult(string Device, uint Code, string Stage, NtStatus Status, long Bytes, byte[] Output)
{
    public Win32Error Win32 => StatusMapping.RtlNtStatusToDosError(Status);

    public object ToJson() => new
    {
        status = CommonOptions.StatusHex(Status),
        statusName = Status.Name ?? CommonOptions.StatusHex(Status),
        win32 = (uint)Win32,
        bytes = Bytes,
        output = CommonOptions.Hex(Output),
    };

    public void Print(TextWriter writer)
    {
        if (Stage == "open") writer.WriteLine($"opening {Device} failed");
        writer.WriteLine($"status:   {Status.Name ?? "?"} ({CommonOptions.StatusHex(Status)})");
        writer.WriteLine($"win32:    {StatusMapping.Name(Win32)} ({(uint)Win32})");
        writer.WriteLine($"bytes:    {Bytes}");
        writer.WriteLine($"output:   {CommonOptions.Hex(Output)}");
        if (Output.Length > 0) writer.WriteLine($"as text:  {Printable(Output)}");
    }

    public static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++) chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '.';
        return new string(chars);
    }
}
