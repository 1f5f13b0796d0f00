using System.Globalization;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;

namespace KernelBridge.TestClient;

/// <summary>
/// test-client security OP ARGS...   one operation against the kernel KERNELBRIDGE_INSTANCE_DIR names,
/// as whoever runs it (the multi-user tests run it under setpriv as another uid). Prints one line,
/// "status 0xXXXXXXXX", or "unavailable" if it cannot connect at all:
///   open-event NAME ACCESS       NtOpenEvent
///   set-event HANDLE             NtSetEvent on a handle value (another process's, say)
///   open-file NAME ACCESS        NtCreateFile (FILE_OPEN)
///   connect-port NAME            FilterConnectCommunicationPort (the line shows its HRESULT)
///   query-sd HANDLE|NAME         NtQuerySecurityObject by name (KbQuerySecurityObjectByName), DACL only
///   shutdown                     KbShutdownKernel
///   post-thread TID              PostThreadMessage(WM_USER); a failure as 0xC007xxxx (FACILITY_WIN32)
/// </summary>
internal static unsafe class SecurityMode
{
    public static int Run(string[] args)
    {
        if (args.Length < 2 && !(args.Length == 1 && args[0] == "shutdown")) return Usage();
        GateClient gate;
        try
        {
            gate = GateClient.Connect(null, autoStart: false);
        }
        catch (KernelUnavailableException)
        {
            // The socket (or its directory) refused us: a multi-user kernel for another group.
            Console.WriteLine("unavailable");
            return 0;
        }
        using var connection = gate;
        using var scope = GateClient.Use(gate);
        var status = args[0] switch
        {
            "open-event" when args.Length >= 3 => OpenEvent(args[1], Number(args[2])),
            "set-event" => Ntdll.NtSetEvent((nint)Number(args[1]), null),
            "open-file" when args.Length >= 3 => OpenFile(args[1], Number(args[2])),
            "connect-port" => ConnectPort(args[1]),
            "query-sd" => QueryByName(args[1]),
            "shutdown" => KernelControl.Shutdown(gate),
            "post-thread" => User32.PostThreadMessage((uint)Number(args[1]), 0x400, 1, 2)
                ? NtStatus.STATUS_SUCCESS
                : new NtStatus(unchecked((int)(0xC0070000u | (Kernel32.GetLastError() & 0xFFFF)))),
            _ => (NtStatus?)null,
        };
        if (status is null) return Usage();
        Console.WriteLine($"status 0x{status.Value.Value:X8}");
        return 0;
    }

    private static uint Number(string text) =>
        text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.Parse(text.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : uint.Parse(text, CultureInfo.InvariantCulture);

    private static NtStatus OpenEvent(string name, uint access)
    {
        nint handle;
        var status = Ntdll.NtOpenEvent(&handle, access, new ObjectAttributes(name, 0));
        if (status.IsSuccess) Ntdll.NtClose(handle);
        return status;
    }

    private static NtStatus OpenFile(string name, uint access)
    {
        nint handle;
        IO_STATUS_BLOCK iosb;
        var status = Ntdll.NtCreateFile(&handle, access, new ObjectAttributes(name), &iosb, 0, ShareAccess.FILE_SHARE_READ | ShareAccess.FILE_SHARE_WRITE,
            CreateDisposition.FILE_OPEN, 0);
        if (status.IsSuccess) Ntdll.NtClose(handle);
        return status;
    }

    private static NtStatus ConnectPort(string name)
    {
        var hr = FltLib.FilterConnectCommunicationPort(name, 0, default, 0, 0, out var port);
        if (hr == FltLib.S_OK)
        {
            Kernel32.CloseHandle(port);
            return NtStatus.STATUS_SUCCESS;
        }
        return (NtStatus)(uint)hr;
    }

    private static NtStatus QueryByName(string name)
    {
        var buffer = stackalloc byte[1024];
        uint needed;
        return Ntdll.KbQuerySecurityObjectByName(name, 4, buffer, 1024, &needed);
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: test-client security open-event NAME ACCESS | set-event HANDLE | open-file NAME ACCESS | connect-port NAME | query-sd NAME | shutdown | post-thread TID");
        return 2;
    }
}
