using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// NtLoadDriver / NtUnloadDriver and `kbridge driver load | unload | list`, against the class's
/// own kernel (which booted the test driver as KbTest). Loading needs SeLoadDriverPrivilege,
/// which root holds.
/// </summary>
public sealed class DriverLoadTests(TestDriverKernelFixture fixture) : IClassFixture<TestDriverKernelFixture>
{
    private const string ServicesKey = @"\Registry\Machine\System\CurrentControlSet\Services\";

    private string[] On(params string[] arguments) => [.. arguments, "--instance", fixture.Instance];

    private static NtStatus StatusOfOpen(string path, GateClient gate)
    {
        try
        {
            using var file = DeviceFile.Open(path, gate: gate);
            return NtStatus.STATUS_SUCCESS;
        }
        catch (NtStatusException e)
        {
            return e.Status;
        }
    }

    /// <summary>The test driver's counters as a driver loaded under <paramref name="service"/> saw them.</summary>
    private static KbTestCounters CountersOf(string service, string tag, GateClient gate)
    {
        using var control = DeviceFile.Open(KbTestInterface.Win32(service) + @"\control", 0, gate);
        var output = new byte[Marshal.SizeOf<KbTestCounters>()];
        control.IoControl(KbTestInterface.IOCTL_KBTEST_COUNTERS, MemoryMarshal.AsBytes(tag.AsSpan()), output);
        return MemoryMarshal.Read<KbTestCounters>(output);
    }

    private JsonElement DriverList()
    {
        var list = Kbridge.Run(On("driver", "list", "--json"));
        Assert.True(list.ExitCode == 0, list.ToString());
        var root = list.Json();
        Assert.Equal(JsonValueKind.Array, root.ValueKind);
        return root;
    }

    private static JsonElement? Find(JsonElement list, string service) =>
        list.EnumerateArray().Where(d => d.GetProperty("name").GetString() == @"\Driver\" + service).Select(d => (JsonElement?)d).FirstOrDefault();

    [RootFact("NtLoadDriver needs SeLoadDriverPrivilege")]
    public void Driver_load_makes_the_devices_appear_they_work_and_unload_takes_them_away()
    {
        const string service = "KbCopy";
        var gate = fixture.Gate;
        try
        {
            var load = Kbridge.Run(On("driver", "load", KernelProcess.TestDriverPath, "--service", service));
            Assert.True(load.ExitCode == 0, load.ToString());
            Assert.Contains(@"loaded \Driver\KbCopy", load.Stdout, StringComparison.Ordinal);

            var devices = ObjectNamespace.List(@"\Device", gate).Select(e => e.Name).ToList();
            foreach (var variant in KbTestInterface.Variants) Assert.Contains(service + variant, devices);
            var link = Assert.Single(ObjectNamespace.List(@"\??", gate), e => e.Name == service);
            Assert.Equal(@"\Device\KbCopy", link.LinkTarget);
            Assert.Contains(ObjectNamespace.List(@"\Driver", gate), e => e.Name == service);

            // It works, and it is a second copy: its counters are its own, not KbTest's.
            var tag = KbTest.NewTag();
            using (var file = DeviceFile.Open(KbTestInterface.Win32(service) + tag, gate: gate))
            {
                var output = new byte[8];
                var result = file.IoControl(KbTestInterface.IOCTL_KBTEST_FSCONTEXT, [], output);
                Assert.Equal(NtStatus.STATUS_SUCCESS, result.Status);
                Assert.Equal(8, result.Information);
            }
            Assert.Equal(1, CountersOf(service, tag, gate).Creates);
            Assert.Equal(0, CountersOf("KbTest", tag, gate).Creates);

            // Loading the same service again.
            var again = Kbridge.Run(On("driver", "load", KernelProcess.TestDriverPath, "--service", service));
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("STATUS_IMAGE_ALREADY_LOADED", again.Stderr, StringComparison.Ordinal);
            using (GateClient.Use(gate))
                Assert.Equal(NtStatus.STATUS_IMAGE_ALREADY_LOADED, Ntdll.NtLoadDriver(ServicesKey + service, KernelProcess.TestDriverPath));

            var listed = Find(DriverList(), service);
            Assert.NotNull(listed);
            var copy = listed.Value;
            Assert.Equal(KernelProcess.TestDriverPath, copy.GetProperty("image").GetString());
            Assert.False(copy.GetProperty("builtIn").GetBoolean());
            Assert.False(copy.GetProperty("faulted").GetBoolean());
            Assert.True(copy.GetProperty("unloadable").GetBoolean());
            Assert.Equal(KbTestInterface.Variants.Length + KbTestSecurityInterface.Devices.Count, copy.GetProperty("devices").GetInt32());

            var unload = Kbridge.Run(On("driver", "unload", service));
            Assert.True(unload.ExitCode == 0, unload.ToString());
            Assert.Contains(@"unloaded \Driver\KbCopy", unload.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(ObjectNamespace.List(@"\Device", gate), e => e.Name.StartsWith(service, StringComparison.Ordinal));
            Assert.DoesNotContain(ObjectNamespace.List(@"\??", gate), e => e.Name == service);
            Assert.DoesNotContain(ObjectNamespace.List(@"\Driver", gate), e => e.Name == service);
            Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, StatusOfOpen(KbTestInterface.Win32(service), gate));
            // A missing component before the last is a missing path, as on Windows.
            Assert.Equal(NtStatus.STATUS_OBJECT_PATH_NOT_FOUND, StatusOfOpen(KbTestInterface.Win32(service) + tag, gate));
            Assert.Null(Find(DriverList(), service));

            var unloadAgain = Kbridge.Run(On("driver", "unload", service));
            Assert.Equal(1, unloadAgain.ExitCode);
            Assert.Contains("STATUS_OBJECT_NAME_NOT_FOUND", unloadAgain.Stderr, StringComparison.Ordinal);

            // The name is free again.
            using (GateClient.Use(gate))
            {
                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtLoadDriver(ServicesKey + service, KernelProcess.TestDriverPath));
                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtUnloadDriver(ServicesKey + service));
            }
        }
        finally
        {
            using (GateClient.Use(gate)) Ntdll.NtUnloadDriver(ServicesKey + service);
        }
    }

    [RootFact("NtLoadDriver needs SeLoadDriverPrivilege")]
    public void NtLoadDriver_with_a_missing_file_fails_with_STATUS_OBJECT_NAME_NOT_FOUND()
    {
        var missing = Path.Combine(AppContext.BaseDirectory, $"NoSuchDriver{Guid.NewGuid():N}.dll");
        AssertLoadFails("KbMissing", missing, [NtStatus.STATUS_OBJECT_NAME_NOT_FOUND], expectInMessage: missing);
    }

    [RootFact("NtLoadDriver needs SeLoadDriverPrivilege")]
    public void NtLoadDriver_with_an_assembly_that_has_no_driver_fails()
    {
        var notADriver = Path.Combine(AppContext.BaseDirectory, "KernelBridge.Abi.dll");
        AssertLoadFails("KbNotADriver", notADriver, [NtStatus.STATUS_PROCEDURE_NOT_FOUND, NtStatus.STATUS_INVALID_IMAGE_FORMAT], expectInMessage: "IDriver");
    }

    [RootFact("NtLoadDriver needs SeLoadDriverPrivilege")]
    public void NtLoadDriver_with_a_file_that_is_not_an_assembly_fails_with_STATUS_INVALID_IMAGE_FORMAT()
    {
        var garbage = Path.Combine(Path.GetTempPath(), $"kb-garbage-{Guid.NewGuid():N}.dll");
        File.WriteAllBytes(garbage, Encoding.ASCII.GetBytes("MZ but not really a portable executable, let alone an assembly"));
        try
        {
            AssertLoadFails("KbGarbage", garbage, [NtStatus.STATUS_INVALID_IMAGE_FORMAT], expectInMessage: garbage);
        }
        finally
        {
            File.Delete(garbage);
        }
    }

    [RootFact("NtLoadDriver needs SeLoadDriverPrivilege")]
    public void NtLoadDriver_with_a_registry_path_outside_the_services_key_fails_with_STATUS_OBJECT_NAME_INVALID()
    {
        foreach (var registryPath in new[] { @"\Registry\Machine\Software\KbBad", ServicesKey, ServicesKey + @"Kb\Nested", "KbBare" })
        {
            using (GateClient.Use(fixture.Gate))
                Assert.Equal(NtStatus.STATUS_OBJECT_NAME_INVALID, Ntdll.NtLoadDriver(registryPath, KernelProcess.TestDriverPath));
        }
        Assert.Null(Find(DriverList(), "KbBad"));
    }

    [RootFact("NtUnloadDriver needs SeLoadDriverPrivilege")]
    public void NtUnloadDriver_of_a_driver_that_is_not_loaded_fails_with_STATUS_OBJECT_NAME_NOT_FOUND()
    {
        using (GateClient.Use(fixture.Gate))
        {
            Assert.Equal(NtStatus.STATUS_OBJECT_NAME_NOT_FOUND, Ntdll.NtUnloadDriver(ServicesKey + "KbNeverLoaded"));
            Assert.Equal(NtStatus.STATUS_OBJECT_NAME_INVALID, Ntdll.NtUnloadDriver(@"\Registry\Machine\Software\KbBad"));
        }
    }

    private void AssertLoadFails(string service, string image, NtStatus[] expected, string expectInMessage)
    {
        var before = DriverList().GetArrayLength();
        NtStatus status;
        string message;
        using (GateClient.Use(fixture.Gate)) status = Ntdll.NtLoadDriver(ServicesKey + service, image, out message);
        Assert.True(expected.Contains(status), $"NtLoadDriver({image}) returned {status}: {message}");
        Assert.Contains(expectInMessage, message, StringComparison.Ordinal);
        Assert.Equal(before, DriverList().GetArrayLength());
        Assert.DoesNotContain(ObjectNamespace.List(@"\Driver", fixture.Gate), e => e.Name == service);

        var cli = Kbridge.Run(On("driver", "load", image, "--service", service));
        Assert.Equal(1, cli.ExitCode);
        Assert.Contains(status.Name ?? "?", cli.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Driver_list_json_lists_the_built_in_and_boot_drivers()
    {
        var list = DriverList();
        foreach (var builtIn in new[] { "Null", "Echo" })
        {
            var driver = Find(list, builtIn);
            Assert.NotNull(driver);
            Assert.True(driver.Value.GetProperty("builtIn").GetBoolean());
            Assert.Equal("(built in)", driver.Value.GetProperty("image").GetString());
        }
        var test = Find(list, "KbTest");
        Assert.NotNull(test);
        Assert.False(test.Value.GetProperty("builtIn").GetBoolean());
        Assert.Equal(KernelProcess.TestDriverPath, test.Value.GetProperty("image").GetString());
        Assert.Equal(KbTestInterface.Variants.Length + KbTestSecurityInterface.Devices.Count, test.Value.GetProperty("devices").GetInt32());
        foreach (var driver in list.EnumerateArray())
            Assert.Equal(["builtIn", "devices", "faulted", "image", "name", "unloadable"], driver.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    /// <summary>
    /// Without SeLoadDriverPrivilege NtLoadDriver and NtUnloadDriver fail with
    /// STATUS_PRIVILEGE_NOT_HELD. Not root: the plain call must fail so. Root: a kernel and its
    /// client both run as uid 65534 (setpriv), since the privilege follows the client's uid.
    /// </summary>
    [UnprivilegedFact]
    public void Loading_a_driver_without_the_privilege_fails_with_STATUS_PRIVILEGE_NOT_HELD()
    {
        if (!Posix.IsRoot)
        {
            using (GateClient.Use(fixture.Gate))
            {
                Assert.Equal(NtStatus.STATUS_PRIVILEGE_NOT_HELD, Ntdll.NtLoadDriver(ServicesKey + "KbNope", KernelProcess.TestDriverPath));
                Assert.Equal(NtStatus.STATUS_PRIVILEGE_NOT_HELD, Ntdll.NtUnloadDriver(ServicesKey + "KbTest"));
            }
            Assert.Null(Find(DriverList(), "KbNope"));
            return;
        }

        var instance = KernelProcess.NewInstanceName("unpriv");
        var directory = Path.Combine(Unprivileged.BaseDirectory, instance);
        using var kernel = Kbridge.Start(Unprivileged.Prefix, null, "kernel", "--instance", instance, "--persistent");
        var kernelStdout = kernel.StandardOutput.ReadToEndAsync();
        var kernelStderr = kernel.StandardError.ReadToEndAsync();
        try
        {
            var socket = Path.Combine(directory, "kernel.sock");
            Assert.True(KbTest.Eventually(() => File.Exists(socket) || kernel.HasExited, TimeSpan.FromSeconds(30)) && !kernel.HasExited,
                $"the unprivileged kernel did not start: {(kernel.HasExited ? $"exit {kernel.ExitCode}: {kernelStdout.Result}{kernelStderr.Result}" : "no socket")}");
            var owner = File.GetUnixFileMode(directory);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, owner);

            var load = Kbridge.RunWith(Unprivileged.Prefix, null, "driver", "load", KernelProcess.TestDriverPath, "--service", "KbNope", "--instance", instance);
            Assert.True(load.ExitCode == 1, load.ToString());
            Assert.Contains("STATUS_PRIVILEGE_NOT_HELD", load.Stderr, StringComparison.Ordinal);

            var unload = Kbridge.RunWith(Unprivileged.Prefix, null, "driver", "unload", "Echo", "--instance", instance);
            Assert.True(unload.ExitCode == 1, unload.ToString());
            Assert.Contains("STATUS_PRIVILEGE_NOT_HELD", unload.Stderr, StringComparison.Ordinal);

            // The kernel is fine and loaded nothing.
            var list = Kbridge.RunWith(Unprivileged.Prefix, null, "driver", "list", "--json", "--instance", instance);
            Assert.True(list.ExitCode == 0, list.ToString());
            var drivers = list.Json();
            Assert.Null(Find(drivers, "KbNope"));
            Assert.NotNull(Find(drivers, "Echo"));

            var stop = Kbridge.RunWith(Unprivileged.Prefix, null, "kernel", "stop", "--instance", instance);
            Assert.True(stop.ExitCode == 0, stop.ToString());
            Assert.True(kernel.WaitForExit(TimeSpan.FromSeconds(15)), "the unprivileged kernel did not stop");
        }
        finally
        {
            if (!kernel.HasExited)
            {
                kernel.Kill(); // by pid: setpriv and env exec, so this is the kernel itself
                kernel.WaitForExit(TimeSpan.FromSeconds(10));
            }
            Posix.DeleteInstanceDirectory(directory);
        }
    }
}
