using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;
using KernelBridge.Kernel.Ob;
using Microsoft.Extensions.Logging;

namespace KernelBridge.Kernel.Io;

/// <summary>A driver the kernel knows: built in, or loaded from an assembly into its own load context.</summary>
internal sealed record LoadedDriver(DriverObject Driver, string ImagePath, bool BuiltIn, AssemblyLoadContext? Context);

/// <summary>
/// IopLoadDriver: makes \Driver\NAME, calls DriverEntry, and undoes it all if DriverEntry fails.
/// Assemblies load into a collectible context that shares the Ddk with the kernel.
/// </summary>
internal sealed partial class DriverLoader(IoManager io, ObjectManager ob, ILogger logger)
{
    public const string ServicesKey = @"\Registry\Machine\System\CurrentControlSet\Services\";

    private readonly ConcurrentDictionary<string, LoadedDriver> _drivers = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _loadOrder = [];

    /// <summary>After a driver's DriverEntry succeeded (the filter manager looks for new volumes).</summary>
    public event Action<DriverObject>? DriverLoaded;

    /// <summary>Before a driver's DriverUnload runs (the filter manager lets go of its volumes and filters first).</summary>
    public event Action<DriverObject>? DriverUnloading;

    public IReadOnlyCollection<LoadedDriver> Drivers => [.. _drivers.Values.OrderBy(d => d.Driver.ServiceKeyName, StringComparer.OrdinalIgnoreCase)];

    public NtStatus LoadBuiltIn(string serviceName, DriverInitialize entry) =>
        Load(serviceName, "(built in)", entry, builtIn: true, context: null);

    /// <summary>Loads a driver assembly. The service name picks the driver type when the assembly has several.</summary>
    public NtStatus LoadAssembly(string? serviceName, string imagePath, out string message)
    {
        message = "";
        if (!Path.IsPathFullyQualified(imagePath))
        {
            message = $"image path '{imagePath}' is not absolute";
            return NtStatus.STATUS_OBJECT_PATH_SYNTAX_BAD;
        }
        if (!File.Exists(imagePath))
        {
            message = $"no file at {imagePath}";
            return NtStatus.STATUS_OBJECT_NAME_NOT_FOUND;
        }
        var context = new DriverLoadContext(imagePath);
        Assembly assembly;
        try
        {
            assembly = context.LoadFromAssemblyPath(imagePath);
        }
        catch (BadImageFormatException e)
        {
            context.Unload();
            message = $"{imagePath} is not a .NET assembly: {e.Message}";
            return NtStatus.STATUS_INVALID_IMAGE_FORMAT;
        }
        var candidates = assembly.GetExportedTypes().Where(t => typeof(IDriver).IsAssignableFrom(t) && !t.IsAbstract).ToList();
        var type = candidates.Count == 1 && serviceName is null
            ? candidates[0]
            : candidates.FirstOrDefault(t => serviceName is not null && (string.Equals(t.Name, serviceName, StringComparison.OrdinalIgnoreCase)
                || string.Equals(t.Name, serviceName + "Driver", StringComparison.OrdinalIgnoreCase)))
              ?? (candidates.Count == 1 ? candidates[0] : null);
        var method = type?.GetMethod(nameof(IDriver.DriverEntry), BindingFlags.Public | BindingFlags.Static, [typeof(DriverObject), typeof(string)]);
        if (type is null || method is null)
        {
            context.Unload();
            message = candidates.Count == 0
                ? $"{Path.GetFileName(imagePath)} has no public type implementing IDriver"
                : $"{Path.GetFileName(imagePath)} has {candidates.Count} drivers ({string.Join(", ", candidates.Select(c => c.Name))}); name one with --service";
            return NtStatus.STATUS_PROCEDURE_NOT_FOUND;
        }
        var name = serviceName ?? (type.Name.EndsWith("Driver", StringComparison.Ordinal) && type.Name.Length > 6 ? type.Name[..^6] : type.Name);
        var status = Load(name, imagePath, method.CreateDelegate<DriverInitialize>(), builtIn: false, context);
        if (!status.IsSuccess)
        {
            context.Unload();
            message = status == NtStatus.STATUS_IMAGE_ALREADY_LOADED ? $"a driver named {name} is already loaded" : $"DriverEntry of {name} returned {status}";
        }
        return status;
    }

    private NtStatus Load(string serviceName, string imagePath, DriverInitialize entry, bool builtIn, AssemblyLoadContext? context)
    {
        if (serviceName.Length == 0 || serviceName.Contains('\\', StringComparison.Ordinal)) return NtStatus.STATUS_OBJECT_NAME_INVALID;
        if (_drivers.ContainsKey(serviceName)) return NtStatus.STATUS_IMAGE_ALREADY_LOADED;
        var driver = ob.Track(new DriverObject(serviceName, ServicesKey + serviceName));
        ObjectManager.AssignKernelSecurity(driver, DefaultSecurity.Driver);
        driver.Verified = io.Verifier.Covers(serviceName);
        var status = ob.InsertPermanent(driver, driver.DriverName);
        if (!status.IsSuccess)
        {
            ob.Dereference(driver);
            return status == NtStatus.STATUS_OBJECT_NAME_COLLISION ? NtStatus.STATUS_IMAGE_ALREADY_LOADED : status;
        }
        try
        {
            using var scope = KernelRuntime.Enter(io.Runtime);
            status = entry(driver, driver.RegistryPath);
        }
        catch (Exception e)
        {
            status = io.DriverFault(driver, null, e, "exception in DriverEntry");
        }
        if (!status.IsSuccess)
        {
            foreach (var device in driver.Devices) io.DeleteDevice(device);
            ob.MakeTemporary(driver);
            ob.Dereference(driver);
            LogLoadFailed(serviceName, status.ToString());
            return status;
        }
        _drivers[serviceName] = new LoadedDriver(driver, imagePath, builtIn, context);
        lock (_loadOrder) _loadOrder.Add(serviceName);
        ob.Dereference(driver);
        LogLoaded(serviceName, imagePath, driver.Devices.Count);
        DriverLoaded?.Invoke(driver);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>NtUnloadDriver's work: DriverUnload, then the driver object leaves the namespace.</summary>
    public NtStatus Unload(string serviceName)
    {
        if (!_drivers.TryGetValue(serviceName, out var loaded)) return NtStatus.STATUS_OBJECT_NAME_NOT_FOUND;
        var driver = loaded.Driver;
        if (driver.DriverUnload is not { } unload) return NtStatus.STATUS_INVALID_DEVICE_REQUEST;
        if (!_drivers.TryRemove(serviceName, out _)) return NtStatus.STATUS_OBJECT_NAME_NOT_FOUND;
        lock (_loadOrder) _loadOrder.RemoveAll(n => string.Equals(n, serviceName, StringComparison.OrdinalIgnoreCase));
        DriverUnloading?.Invoke(driver);
        try
        {
            using var scope = KernelRuntime.Enter(io.Runtime);
            unload(driver);
        }
        catch (Exception e)
        {
            io.DriverFault(driver, null, e, "exception in DriverUnload");
        }
        io.VerifyUnload(driver);
        foreach (var device in driver.Devices) io.DeleteDevice(device);
        ob.MakeTemporary(driver);
        loaded.Context?.Unload();
        LogUnloaded(serviceName);
        return NtStatus.STATUS_SUCCESS;
    }

    /// <summary>Unloads every driver that can be, newest first (kernel shutdown).</summary>
    public void UnloadAll()
    {
        string[] order;
        lock (_loadOrder) order = [.. _loadOrder];
        foreach (var name in order.Reverse())
            if (_drivers.TryGetValue(name, out var loaded) && loaded.Driver.DriverUnload is not null) Unload(name);
    }

    /// <summary>Resolves a driver's own dependencies beside it; the Ddk and Abi come from the kernel.</summary>
    private sealed class DriverLoadContext(string imagePath) : AssemblyLoadContext(Path.GetFileNameWithoutExtension(imagePath), isCollectible: true)
    {
        private readonly AssemblyDependencyResolver _resolver = new(imagePath);

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            if (Default.Assemblies.FirstOrDefault(a => AssemblyName.ReferenceMatchesDefinition(a.GetName(), assemblyName)) is { } shared) return shared;
            return _resolver.ResolveAssemblyToPath(assemblyName) is { } path ? LoadFromAssemblyPath(path) : null;
        }
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Information, Message = "driver {Name} loaded from {Image} ({Devices} devices)")]
    private partial void LogLoaded(string name, string image, int devices);

    [LoggerMessage(EventId = 501, Level = LogLevel.Warning, Message = "driver {Name} failed to load: {Status}")]
    private partial void LogLoadFailed(string name, string status);

    [LoggerMessage(EventId = 502, Level = LogLevel.Information, Message = "driver {Name} unloaded")]
    private partial void LogUnloaded(string name);
}
