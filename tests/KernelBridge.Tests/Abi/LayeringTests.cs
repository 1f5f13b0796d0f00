using System.Reflection;
using KernelBridge.Ddk;

namespace KernelBridge.Tests.Abi;

/// <summary>Drivers see only the Ddk (and the Abi it stands on); user mode never sees the kernel.</summary>
public sealed class LayeringTests
{
    private static string[] References(Assembly assembly) => [.. assembly.GetReferencedAssemblies().Select(a => a.Name!)];

    [Theory]
    [InlineData("KernelBridge.Drivers")]
    [InlineData("KernelBridge.TestDriver")]
    [InlineData("KernelBridge.TestFilterDriver")]
    public void A_driver_assembly_references_the_Ddk_and_nothing_else_of_KernelBridge(string driver)
    {
        var assembly = Assembly.Load(driver);
        var ours = References(assembly).Where(r => r.StartsWith("KernelBridge.", StringComparison.Ordinal)).ToList();
        Assert.Contains("KernelBridge.Ddk", ours);
        Assert.All(ours, r => Assert.True(r is "KernelBridge.Ddk" or "KernelBridge.Abi", $"{driver} references {r}"));
    }

    [Fact]
    public void The_client_does_not_reference_the_kernel_or_the_Ddk()
    {
        var references = References(typeof(KernelBridge.Client.DeviceFile).Assembly);
        Assert.DoesNotContain("KernelBridge.Kernel", references);
        Assert.DoesNotContain("KernelBridge.Ddk", references);
    }

    [Fact]
    public void The_Ddk_exposes_no_kernel_internals_to_drivers()
    {
        // The Ddk's kernel-facing pieces are internal; a driver cannot name them.
        var ddk = typeof(KernelBridge.Ddk.Irp).Assembly;
        Assert.False(ddk.GetType("KernelBridge.Ddk.IKernelRuntime")!.IsPublic);
        Assert.False(ddk.GetType("KernelBridge.Ddk.KernelRuntime")!.IsPublic);
        Assert.False(ddk.GetType("KernelBridge.Ddk.ObjectHeader")!.IsPublic);
        Assert.Empty(typeof(Irp).GetConstructors());
        Assert.Empty(typeof(DeviceObject).GetConstructors());
    }
}
