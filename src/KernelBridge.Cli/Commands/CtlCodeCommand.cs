using System.CommandLine;
using System.Globalization;
using KernelBridge.Abi;

namespace KernelBridge.Cli.Commands;

/// <summary>kbridge ctl-code 0x22A010 | ctl-code --type 0x22 --function 0x804 --method buffered --access write.</summary>
internal static class CtlCodeCommand
{
    public static Command Create()
    {
        var code = new Argument<string?>("CODE") { Description = "A code to decode (hex or decimal)", Arity = ArgumentArity.ZeroOrOne };
        var type = new Option<string?>("--type") { Description = "Device type to encode (e.g. 0x22)" };
        var function = new Option<string?>("--function") { Description = "Function number to encode (0x800 and up for vendors)" };
        var method = new Option<string>("--method") { Description = "The transfer method (default buffered)", DefaultValueFactory = _ => "buffered" }
            .OneOf("buffered", "in-direct", "out-direct", "neither");
        var access = new Option<string>("--access") { Description = "The required access (default any)", DefaultValueFactory = _ => "any" }
            .OneOf("any", "read", "write", "read-write", "rw");
        var json = CommonOptions.Json();
        var command = new Command("ctl-code", "Decode an I/O control code, or encode one from its parts (CTL_CODE)");
        command.Arguments.Add(code);
        command.Options.Add(type);
        command.Options.Add(function);
        command.Options.Add(method);
        command.Options.Add(access);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            CtlCode ctl;
            if (parse.GetValue(code) is { } text)
            {
                if (!CommonOptions.TryParseNumber(text, out var value))
                {
                    Console.Error.WriteLine($"kbridge: '{text}' is not a control code");
                    return 2;
                }
                ctl = new CtlCode(value);
            }
            else
            {
                if (parse.GetValue(type) is not { } typeText || parse.GetValue(function) is not { } functionText
                    || !CommonOptions.TryParseNumber(typeText, out var deviceType) || !CommonOptions.TryParseNumber(functionText, out var functionNumber))
                {
                    Console.Error.WriteLine("kbridge: give a CODE to decode, or --type and --function (with --method and --access) to encode");
                    return 2;
                }
                if (deviceType > 0xFFFF || functionNumber > 0xFFF)
                {
                    Console.Error.WriteLine("kbridge: the device type is 16 bits and the function 12 bits");
                    return 2;
                }
                var transfer = parse.GetValue(method) switch
                {
                    "in-direct" => TransferMethod.METHOD_IN_DIRECT,
                    "out-direct" => TransferMethod.METHOD_OUT_DIRECT,
                    "neither" => TransferMethod.METHOD_NEITHER,
                    _ => TransferMethod.METHOD_BUFFERED,
                };
                var required = parse.GetValue(access) switch
                {
                    "read" => RequiredAccess.FILE_READ_ACCESS,
                    "write" => RequiredAccess.FILE_WRITE_ACCESS,
                    "read-write" or "rw" => RequiredAccess.FILE_READ_ACCESS | RequiredAccess.FILE_WRITE_ACCESS,
                    _ => RequiredAccess.FILE_ANY_ACCESS,
                };
                ctl = CtlCode.Make(deviceType, functionNumber, transfer, required);
            }
            var accessName = ctl.Access == (RequiredAccess.FILE_READ_ACCESS | RequiredAccess.FILE_WRITE_ACCESS)
                ? "FILE_READ_ACCESS | FILE_WRITE_ACCESS" : ctl.Access.ToString();
            if (parse.GetValue(json))
            {
                CommonOptions.PrintJson(new
                {
                    code = ctl.ToString(), deviceType = "0x" + ctl.DeviceType.ToString("X", CultureInfo.InvariantCulture),
                    function = "0x" + ctl.Function.ToString("X", CultureInfo.InvariantCulture), method = ctl.Method.ToString(), access = accessName,
                });
                return 0;
            }
            Console.Out.WriteLine($"code:        {ctl}");
            Console.Out.WriteLine($"device type: 0x{ctl.DeviceType:X}{(Enum.IsDefined((DeviceType)ctl.DeviceType) ? $" ({(DeviceType)ctl.DeviceType})" : ctl.IsCustomDeviceType ? " (vendor)" : "")}");
            Console.Out.WriteLine($"function:    0x{ctl.Function:X}{(ctl.IsCustomFunction ? " (vendor range)" : " (Microsoft range)")}");
            Console.Out.WriteLine($"method:      {ctl.Method}");
            Console.Out.WriteLine($"access:      {accessName}");
            Console.Out.WriteLine($"CTL_CODE(0x{ctl.DeviceType:X}, 0x{ctl.Function:X}, {ctl.Method}, {accessName})");
            return 0;
        });
        return command;
    }
}
