using KernelBridge.Client.Gate;
using KernelBridge.Platform;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Gate;

/// <summary>
/// DESIGN.md: the instance directory is mode 0700 and refused if owned by someone else, so
/// nobody can plant a socket for us to talk to.
/// </summary>
public sealed class InstanceDirectoryTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [Fact]
    public void A_new_instance_directory_is_created_mode_0700_under_a_0700_base()
    {
        var instance = KernelProcess.NewInstanceName("mode");
        var directory = InstanceDirectory.Open(instance, create: true);
        try
        {
            Assert.True(Directory.Exists(directory.Path));
            Assert.Equal(instance, Path.GetFileName(directory.Path));
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(directory.Path));
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(InstanceDirectory.BaseDirectory()));
            Assert.Equal(Path.Combine(directory.Path, "kernel.sock"), directory.SocketPath);
        }
        finally
        {
            Posix.DeleteInstanceDirectory(directory.Path);
        }
    }

    [Fact]
    public void An_existing_instance_directory_open_to_others_is_made_private_again()
    {
        var instance = KernelProcess.NewInstanceName("loose");
        var path = Path.Combine(InstanceDirectory.BaseDirectory(), instance);
        InstanceDirectory.Open(instance, create: true);
        try
        {
            File.SetUnixFileMode(path, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            InstanceDirectory.Open(instance, create: true);
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        }
        finally
        {
            Posix.DeleteInstanceDirectory(path);
        }
    }

    [Fact]
    public void The_kernel_socket_is_for_its_owner_only()
    {
        var instance = KernelProcess.NewInstanceName("sockmode");
        using var kernel = KernelProcess.Start(instance, "--persistent");
        var mode = File.GetUnixFileMode(kernel.Directory.SocketPath);
        Assert.Equal(UnixFileMode.None, mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    [InlineData("spaces are bad")]
    public void Bad_instance_names_are_refused(string name)
    {
        Assert.Throws<ArgumentException>(() => InstanceDirectory.Open(name, create: false));
    }

    /// <summary>Creates a fresh instance directory and hands it to uid/gid 65534 with chown(1).</summary>
    private static (string Instance, string Path) ForeignInstance()
    {
        var instance = KernelProcess.NewInstanceName("foreign");
        var directory = InstanceDirectory.Open(instance, create: true);
        var chown = Posix.Which("chown") ?? throw new InvalidOperationException("chown(1) is not on PATH");
        var (exit, output) = Posix.Run(chown, $"{Posix.Nobody}:{Posix.Nobody}", directory.Path);
        Assert.True(exit == 0, $"chown failed: {output}");
        return (instance, directory.Path);
    }

    [RootFact("chown to another user")]
    public void An_instance_directory_owned_by_another_user_is_refused()
    {
        var (instance, path) = ForeignInstance();
        try
        {
            var refused = Assert.Throws<UnauthorizedAccessException>(() => InstanceDirectory.Open(instance, create: false));
            Assert.Contains($"uid {Posix.Nobody}", refused.Message, StringComparison.Ordinal);
            Assert.Contains(path, refused.Message, StringComparison.Ordinal);
            Assert.Throws<UnauthorizedAccessException>(() => InstanceDirectory.Open(instance, create: true));
            // Its mode was not "fixed" on the way: refusing means not touching.
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        }
        finally
        {
            Posix.DeleteInstanceDirectory(path);
        }
    }

    [RootFact("chown to another user")]
    public void A_client_refuses_to_connect_through_another_users_instance_directory()
    {
        var (instance, path) = ForeignInstance();
        try
        {
            Assert.Throws<UnauthorizedAccessException>(() => GateClient.Connect(instance, autoStart: true));
            Assert.False(File.Exists(Path.Combine(path, "kernel.log")), "a kernel was started in another user's directory");
        }
        finally
        {
            Posix.DeleteInstanceDirectory(path);
        }
    }

    [RootFact("chown to another user")]
    public void Kbridge_kernel_refuses_another_users_instance_directory_naming_the_owner()
    {
        var (instance, path) = ForeignInstance();
        try
        {
            var result = Kbridge.Run("kernel", "--instance", instance, "--persistent");
            Assert.Equal(1, result.ExitCode);
            Assert.Contains($"belongs to uid {Posix.Nobody}", result.Stderr, StringComparison.Ordinal);
            Assert.Contains(path, result.Stderr, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(path, "kernel.sock")));

            var status = Kbridge.Run("kernel", "status", "--instance", instance);
            Assert.Equal(1, status.ExitCode);
            Assert.Contains($"uid {Posix.Nobody}", status.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Posix.DeleteInstanceDirectory(path);
        }
    }
}
