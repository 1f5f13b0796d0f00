using KernelBridge.Platform;
using KernelBridge.Tests.Cli;
using KernelBridge.Tests.Gate.Support;

namespace KernelBridge.Tests.Security;

/// <summary>
/// A directory above a chosen instance directory (KERNELBRIDGE_INSTANCE_DIR, --dir) that another user
/// owns, or that others may write in without the sticky bit, lets them swap the instance directory for
/// one with their own socket: it is refused with the directory named, before anything is made.
/// </summary>
public sealed class InstanceAncestorTests : IDisposable
{
    private readonly string _temporary = Directory.CreateTempSubdirectory("kb-ancestors-").FullName;

    public void Dispose() => Posix.DeleteInstanceDirectory(_temporary);

    private static Dictionary<string, string?> At(string instanceDirectory) => new() { [InstanceDirectory.DirectoryVariable] = instanceDirectory };

    [Fact]
    public void A_parent_others_may_write_without_the_sticky_bit_is_refused()
    {
        var open = Directory.CreateDirectory(Path.Combine(_temporary, "open")).FullName;
        File.SetUnixFileMode(open, (UnixFileMode)0x1FF); // 0777, no sticky bit
        var instance = Path.Combine(open, "kernel");
        var result = Kbridge.RunWith(null, At(instance), "kernel", "--persistent");
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains($"{open} may be written by other users (mode 777)", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(instance), "the instance directory was made below a directory others may write");

        // With the sticky bit (as /tmp has), others cannot move what they do not own: accepted.
        File.SetUnixFileMode(open, (UnixFileMode)0x1FF | UnixFileMode.StickyBit);
        var status = Kbridge.RunWith(null, At(instance), "kernel", "status");
        Assert.DoesNotContain("may be written by other users", status.Stderr, StringComparison.Ordinal);
    }

    [RootFact("chown to another user")]
    public void A_parent_another_user_made_first_is_refused_naming_its_owner()
    {
        var squatted = Directory.CreateDirectory(Path.Combine(_temporary, "kernelbridge-0-shared")).FullName;
        var chown = Posix.Which("chown") ?? throw new InvalidOperationException("chown(1) is not on PATH");
        var (exit, output) = Posix.Run(chown, $"{Posix.Nobody}:{Posix.Nobody}", squatted);
        Assert.True(exit == 0, $"chown failed: {output}");
        var instance = Path.Combine(squatted, "default");
        var result = Kbridge.RunWith(null, At(instance), "kernel", "--persistent", "--multi-user");
        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains($"{squatted} belongs to uid {Posix.Nobody}", result.Stderr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(instance));
    }
}
