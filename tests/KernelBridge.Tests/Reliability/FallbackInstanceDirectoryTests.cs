using KernelBridge.Platform;
using KernelBridge.Platform.Interop;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Reliability;

/// <summary>
/// Without XDG_RUNTIME_DIR an instance lives in the predictable ${TMPDIR:-/tmp}/kernelbridge-UID.
/// Another user can create that first; its owner must then get an error that names the directory,
/// its owner and the way out (KERNELBRIDGE_RUNTIME_DIR), and that way out must work. Every test
/// here uses a temporary TMPDIR of its own, never the real /tmp, and passes the environment to the
/// kbridge processes it starts (the test process's own environment is left alone).
/// </summary>
public sealed class FallbackInstanceDirectoryTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly string _temporary = Directory.CreateTempSubdirectory("kbr-").FullName;

    public void Dispose() => Posix.DeleteInstanceDirectory(_temporary);

    private string Fallback => Path.Combine(_temporary, $"kernelbridge-{Libc.EffectiveUserId()}");

    private Dictionary<string, string?> Environment(string? runtimeDirectory = null) => new()
    {
        ["TMPDIR"] = _temporary,
        ["XDG_RUNTIME_DIR"] = null,
        [InstanceDirectory.RuntimeDirectoryVariable] = runtimeDirectory,
        [InstanceDirectory.InstanceVariable] = null,
    };

    private static Dictionary<string, string> Concrete(Dictionary<string, string?> environment) =>
        environment.Where(e => e.Value is not null).ToDictionary(e => e.Key, e => e.Value!);

    /// <summary>Runs `kbridge kernel --persistent` in <paramref name="environment"/>; checks it serves (status), then stops it.</summary>
    private static string RunKernelThenStop(Dictionary<string, string?> environment, string instance)
    {
        // ChildProcess sets variables but cannot unset them: XDG_RUNTIME_DIR is emptied (which the
        // directory logic treats as unset) and the rest are absent from the test's environment anyway.
        var concrete = Concrete(environment);
        concrete["XDG_RUNTIME_DIR"] = "";
        using var kernel = ChildProcess.StartDll("kbridge.dll", concrete, "kernel", "--instance", instance, "--persistent");
        Assert.True(kernel.WaitForLine("listening on", StartTimeout), $"the kernel did not start:{System.Environment.NewLine}{kernel.Output}");
        var status = Kbridge.RunWith(null, environment, "kernel", "status", "--instance", instance);
        Assert.True(status.ExitCode == 0, status.ToString());
        var stop = Kbridge.RunWith(null, environment, "kernel", "stop", "--instance", instance);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.True(kernel.WaitForExit(StartTimeout), "the kernel did not stop");
        return kernel.Output;
    }

    [Fact]
    public void Without_XDG_RUNTIME_DIR_the_instance_lives_under_TMPDIR_mode_0700()
    {
        var instance = KernelProcess.NewInstanceName("fallback");
        var output = RunKernelThenStop(Environment(), instance);
        Assert.Contains(Path.Combine(Fallback, instance, "kernel.sock"), output, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Fallback));
    }

    [Fact]
    public void KERNELBRIDGE_RUNTIME_DIR_chooses_where_instances_live()
    {
        var chosen = Path.Combine(_temporary, "mine");
        var instance = KernelProcess.NewInstanceName("chosen");
        var output = RunKernelThenStop(Environment(chosen), instance);
        Assert.Contains(Path.Combine(chosen, instance, "kernel.sock"), output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Fallback), "the fallback directory was made although KERNELBRIDGE_RUNTIME_DIR was set");
    }

    [Fact]
    public void An_existing_KERNELBRIDGE_RUNTIME_DIR_keeps_its_mode_and_one_others_may_write_to_is_refused()
    {
        // Like $HOME: an existing directory of the user's own, 0755, is used as it is, never chmod-ed.
        var home = Directory.CreateDirectory(Path.Combine(_temporary, "home")).FullName;
        const UnixFileMode homeMode = (UnixFileMode)0x1ED; // 0755
        File.SetUnixFileMode(home, homeMode);
        var instance = KernelProcess.NewInstanceName("home");
        RunKernelThenStop(Environment(home), instance);
        Assert.Equal(homeMode, File.GetUnixFileMode(home));

        var open = Directory.CreateDirectory(Path.Combine(_temporary, "open")).FullName;
        File.SetUnixFileMode(open, (UnixFileMode)0x1FF); // 0777
        var refused = Kbridge.RunWith(null, Environment(open), "kernel", "--instance", instance, "--persistent");
        Assert.True(refused.ExitCode != 0, refused.ToString());
        Assert.Contains("writable by other users", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal((UnixFileMode)0x1FF, File.GetUnixFileMode(open));
        Assert.Empty(Directory.EnumerateFileSystemEntries(open));
    }

    /// <summary>Another user got to the predictable name first (uid 65534 here, as root can arrange).</summary>
    private void SquatFallback()
    {
        // A world-writable sticky directory, as /tmp is, so that another user could have made the name.
        File.SetUnixFileMode(_temporary, (UnixFileMode)0x3FF | UnixFileMode.StickyBit);
        Directory.CreateDirectory(Fallback);
        var chown = Posix.Which("chown") ?? throw new InvalidOperationException("chown(1) is not on PATH");
        var (exit, output) = Posix.Run(chown, $"{Posix.Nobody}:{Posix.Nobody}", Fallback);
        Assert.True(exit == 0, $"chown failed: {output}");
    }

    [RootFact("chown to another user")]
    public void A_fallback_directory_another_user_made_first_is_refused_naming_it_its_owner_and_the_fix()
    {
        SquatFallback();
        var instance = KernelProcess.NewInstanceName("squatted");
        foreach (var arguments in new[] { new[] { "kernel", "--instance", instance, "--persistent" }, ["kernel", "status", "--instance", instance],
            ["ioctl", "Echo", "0x222000", "--in", "00", "--instance", instance] })
        {
            var result = Kbridge.RunWith(null, Environment(), arguments);
            Assert.True(result.ExitCode != 0, result.ToString());
            Assert.Contains(Fallback, result.Stderr, StringComparison.Ordinal);
            Assert.Contains($"belongs to uid {Posix.Nobody}", result.Stderr, StringComparison.Ordinal);
            Assert.Contains(InstanceDirectory.RuntimeDirectoryVariable, result.Stderr, StringComparison.Ordinal);
        }
        Assert.Empty(Directory.EnumerateFileSystemEntries(Fallback));
    }

    [RootFact("chown to another user")]
    public void The_documented_way_out_of_a_squatted_fallback_works()
    {
        SquatFallback();
        var instance = KernelProcess.NewInstanceName("wayout");
        var chosen = Path.Combine(_temporary, "mine");
        var output = RunKernelThenStop(Environment(chosen), instance);
        Assert.Contains(Path.Combine(chosen, instance, "kernel.sock"), output, StringComparison.Ordinal);
        // An auto-starting client finds its way too, through the same variable.
        var echo = Kbridge.RunWith(null, new Dictionary<string, string?>(Environment(chosen)) { ["KBRIDGE_IDLE_TIMEOUT"] = "1" },
            "ioctl", "Echo", "0x222000", "--in", "6869", "--instance", instance);
        Assert.True(echo.ExitCode == 0, echo.ToString());
        Assert.True(KbTest.Eventually(() => !File.Exists(Path.Combine(chosen, instance, "kernel.sock")), TimeSpan.FromSeconds(20)),
            "the auto-started kernel did not go after its idle second");
    }
}
