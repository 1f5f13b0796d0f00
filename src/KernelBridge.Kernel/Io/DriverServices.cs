using System.Text;
using KernelBridge.Abi;
using KernelBridge.Abi.Protocol;
using KernelBridge.Kernel.Gate;
using KernelBridge.Kernel.Se;

namespace KernelBridge.Kernel.Io;

/// <summary>NtLoadDriver, NtUnloadDriver and the driver list. Loading and unloading need SeLoadDriverPrivilege.</summary>
internal sealed class DriverServices(DriverLoader loader)
{
    public void Register(ServiceTable table)
    {
        table.Register<NtLoadDriverRequest, EmptyReply>(NtLoadDriver);
        table.Register<NtUnloadDriverRequest, EmptyReply>(NtUnloadDriver);
        table.Register<KbQueryDriversRequest, KbDriversReply>(KbQueryDrivers);
    }

    /// <summary>The service name out of \Registry\Machine\System\CurrentControlSet\Services\NAME, or null.</summary>
    private static string? ServiceNameOf(string registryPath)
    {
        if (!registryPath.StartsWith(DriverLoader.ServicesKey, StringComparison.OrdinalIgnoreCase)) return null;
        var name = registryPath[DriverLoader.ServicesKey.Length..];
        return name.Length == 0 || name.Contains('\\', StringComparison.Ordinal) ? null : name;
    }

    private void NtLoadDriver(in SyscallContext context, in NtLoadDriverRequest request, ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var registryPath = reader.TakeString(request.ServiceNameBytes, "DriverServiceName");
        var imagePath = reader.TakeString(request.ImagePathBytes, "ImagePath");
        reader.EnsureEnd("NtLoadDriver");
        if (!context.Process.Token.Holds(Privileges.SeLoadDriverPrivilege))
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
        var status = loader.LoadAssembly(serviceName, imagePath, out var message);
        if (status.IsSuccess) context.Reply.Send(status);
        else context.Reply.Send(status, new EmptyReply(0), Encoding.UTF8.GetBytes(message));
    }

    private void NtUnloadDriver(in SyscallContext context, in NtUnloadDriverRequest request, ReadOnlySpan<byte> data)
    {
        var reader = new WireReader(data);
        var registryPath = reader.TakeString(request.ServiceNameBytes, "DriverServiceName");
        reader.EnsureEnd("NtUnloadDriver");
        if (!context.Process.Token.Holds(Privileges.SeLoadDriverPrivilege))
        {
            context.Reply.Send(NtStatus.STATUS_PRIVILEGE_NOT_HELD);
            return;
        }
        var serviceName = ServiceNameOf(registryPath);
        context.Reply.Send(serviceName is null ? NtStatus.STATUS_OBJECT_NAME_INVALID : loader.Unload(serviceName));
    }

    private void KbQueryDrivers(in SyscallContext context, in KbQueryDriversRequest request, ReadOnlySpan<byte> data)
    {
        new WireReader(data).EnsureEnd("KbQueryDrivers");
        var drivers = loader.Drivers;
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
        context.Reply.Send(NtStatus.STATUS_SUCCESS, new KbDriversReply((uint)drivers.Count), payload.ToArray());
    }
}
