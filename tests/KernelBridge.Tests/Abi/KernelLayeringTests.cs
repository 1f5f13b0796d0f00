using System.Reflection;
using KernelBridge.Kernel;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Abi;

/// <summary>
/// The kernel's layers, as a reader of ntoskrnl expects them: the executive (Ob, Io, Ke, Ps, Se, Ex)
/// never touches the transport nor the wire protocol — it ends a request with an outcome handed to
/// a completion target; only the system services and the gate speak the protocol. Ke sits below Io.
/// </summary>
public sealed class KernelLayeringTests
{
    private static readonly Assembly Kernel = typeof(KernelHost).Assembly;

    private static IEnumerable<Type> TypesIn(string subsystem) =>
        Kernel.GetTypes().Where(t => t.Namespace == $"KernelBridge.Kernel.{subsystem}" && t.DeclaringType is null);

    private static IEnumerable<string> Violations(string subsystem, Func<Type, bool> forbidden) =>
        from type in TypesIn(subsystem)
        from used in TypeReferences.Of(type)
        where forbidden(used)
        select $"{type.FullName} uses {used.FullName}";

    [Theory]
    [InlineData("Ob")]
    [InlineData("Io")]
    [InlineData("Ke")]
    [InlineData("Ps")]
    [InlineData("Se")]
    [InlineData("Ex")]
    public void The_executive_uses_neither_the_gate_nor_the_wire_protocol(string subsystem)
    {
        Assert.NotEmpty(TypesIn(subsystem));
        var violations = Violations(subsystem, used =>
            used.Namespace is "KernelBridge.Abi.Protocol" or "KernelBridge.Kernel.Gate" or "KernelBridge.Kernel.Services"
            || used.Assembly.GetName().Name == "KernelBridge.Platform").ToList();
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    /// <summary>Mm maps memory through the platform layer (memfds, mmap), but it too never touches the transport or the wire.</summary>
    [Fact]
    public void Mm_uses_neither_the_gate_nor_the_wire_protocol()
    {
        Assert.NotEmpty(TypesIn("Mm"));
        var violations = Violations("Mm", used =>
            used.Namespace is "KernelBridge.Abi.Protocol" or "KernelBridge.Kernel.Gate" or "KernelBridge.Kernel.Services"
            || (used.Assembly.GetName().Name == "KernelBridge.Platform" && used.Name is not ("SharedMemory" or "Libc"))).ToList();
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Fact]
    public void Ke_sits_below_Io()
    {
        var violations = Violations("Ke", used => used.Namespace is "KernelBridge.Kernel.Io").ToList();
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Fact]
    public void The_check_sees_a_use_in_a_method_body()
    {
        // The checker itself must find uses that only appear in IL (a local, a call), or it proves nothing.
        var used = TypeReferences.Of(typeof(KernelBridge.Kernel.Gate.IoReplySink));
        Assert.Contains(typeof(KernelBridge.Abi.Protocol.IoTransferReply), used);
        Assert.Contains(typeof(KernelBridge.Kernel.Gate.ClientConnection), used);
    }
}
