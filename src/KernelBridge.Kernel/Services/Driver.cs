using System.Text;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Abi.Security;
using KernelBridge.Kernel.Se;

using KernelBridge.Kernel.Io;

namespace KernelBridge.Kernel.Services;

/// <summary>NtLoadDriver, NtUnloadDriver and the driver list (KbQueryDrivers). Loading and unloading need SeLoadDriverPrivilege enabled.</summary>
internal sealed partial class SystemServices
{
    /// <summary>The service name out of \Registry\Machine\System\CurrentControlSet\Services\NAME, or null.</summary>
    private static string? ServiceNameOf(string registryPath)
    {
        if (!registryPath.StartsWith(DriverLoader.ServicesKey, StringComparison.OrdinalIgnoreCase)) return null;
        var name = registryPath[DriverLoader.ServicesKey.Length..];
        return name.Length == 0 || name.Contains('\\', StringComparison.Ordinal) ? null : name;
    }

    public void NtLoadDriver(in SyscallContext context, in NtLoadDriverRequest request, NtLoadDriverRequest.Data data)
    {
        var registryPath = new string(data.ServiceName);
        var imagePath = new string(data.ImagePath);
        if (!context.Process.Token.IsPrivilegeEnabled(Privilege.SeLoadDriverPrivilege))
        {
            context.Reply.Send(NtStatus.STATUS_PRIVILEGE_NOT_HELD);
            return;
        }
        var serviceName = ServiceNameOf(registryPath);
        if (serviceName is null)
        {
            context.Reply.Send(NtStatus.STATUS_OBJECT_NAME_INVALID);
            return;
        }
        var status = _drivers.LoadAssembly(serviceName, imagePath, out var message);
        var explanation = status.IsSuccess ? [] : Encoding.UTF8.GetBytes(message);
        context.Reply.Send(status, new NtLoadDriverReply((uint)explanation.Length), explanation);
    }

    public void NtUnloadDriver(in SyscallContext context, in NtUnloadDriverRequest request, NtUnloadDriverRequest.Data data)
    {
        var registryPath = new string(data.ServiceName);
        if (!context.Process.Token.IsPrivilegeEnabled(Privilege.SeLoadDriverPrivilege))
        {
            context.Reply.Send(NtStatus.STATUS_PRIVILEGE_NOT_HELD);
            return;
        }
        var serviceName = ServiceNameOf(registryPath);
        context.Reply.Send(serviceName is null ? NtStatus.STATUS_OBJECT_NAME_INVALID : _drivers.Unload(serviceName));
    }

    public void KbQueryDrivers(in SyscallContext context, in KbQueryDriversRequest request)
    {
        var drivers = _drivers.Drivers;
        var payload = new List<byte>();
        Span<byte> record = stackalloc byte[System.Runtime.CompilerServices.Unsafe.SizeOf<KbDriverRecord>()];
        foreach (var loaded in drivers)
        {
            var driver = loaded.Driver;
            var flags = (loaded.BuiltIn ? DriverRecordFlags.BuiltIn : 0)
                | (driver.Faulted ? DriverRecordFlags.Faulted : 0)
                | (driver.DriverUnload is not null ? DriverRecordFlags.Unloadable : 0);
            WireData.Write(record, new KbDriverRecord(flags, (uint)driver.Devices.Count,
                WireData.StringBytes(driver.DriverName), WireData.StringBytes(loaded.ImagePath)));
            payload.AddRange(record);
            payload.AddRange(Encoding.Unicode.GetBytes(driver.DriverName));
            payload.AddRange(Encoding.Unicode.GetBytes(loaded.ImagePath));
        }
        var records = payload.ToArray();
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new KbDriversReply((uint)drivers.Count, (uint)records.Length), records);
    }
}
