using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Tests.Abi;

/// <summary>
/// The wire protocol is declared once, in Abi. These tests pin it: every layout change must be a
/// deliberate edit of wire-layout.txt (and a protocol version bump), never an accident.
/// </summary>
public sealed class WireLayoutTests
{
    private static readonly Assembly Abi = typeof(FrameHeader).Assembly;

    private static IEnumerable<Type> WireTypes() =>
        Abi.GetTypes().Where(t => t.Namespace == typeof(FrameHeader).Namespace && t.IsValueType && !t.IsEnum && t.IsPublic && !t.IsByRefLike)
            .OrderBy(t => t.Name, StringComparer.Ordinal);

    private static int SizeOf(Type type) =>
        (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;

    private static string Describe(Type type)
    {
        var fields = type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .Select(f => (Name: f.Name.Replace("<", "", StringComparison.Ordinal).Replace(">k__BackingField", "", StringComparison.Ordinal),
                Offset: (int)Marshal.OffsetOf(type, f.Name), Type: f.FieldType.Name))
            .OrderBy(f => f.Offset);
        return $"{type.Name} {SizeOf(type)}: " + string.Join(", ", fields.Select(f => $"{f.Name}:{f.Type}@{f.Offset}"));
    }

    private static string Current() => new StringBuilder().AppendJoin('\n', WireTypes().Select(Describe)).Append('\n').ToString();

    [Fact]
    public void Every_wire_layout_matches_the_pinned_table()
    {
        var pinned = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Abi", "wire-layout.txt")).ReplaceLineEndings("\n");
        var current = Current();
        if (pinned != current)
        {
            var path = Path.Combine(Path.GetTempPath(), "wire-layout.current.txt");
            File.WriteAllText(path, current);
            Assert.Fail($"the wire layout changed; if that is deliberate, bump WireProtocol.Version and copy {path} over tests/KernelBridge.Tests/Abi/wire-layout.txt");
        }
    }

    [Fact]
    public void Every_wire_struct_is_blittable_with_no_references()
    {
        foreach (var type in WireTypes())
        {
            var isReferenceOrContains = (bool)typeof(RuntimeHelpers).GetMethod(nameof(RuntimeHelpers.IsReferenceOrContainsReferences))!
                .MakeGenericMethod(type).Invoke(null, null)!;
            Assert.False(isReferenceOrContains, $"{type.Name} holds references: it cannot travel as bytes");
        }
    }

    [Fact]
    public void Each_system_service_has_exactly_one_request_declaration()
    {
        var requests = WireTypes()
            .Where(t => t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequest<>)))
            .Select(t => (Type: t, Number: (Syscall)t.GetProperty("Number", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!))
            .ToList();
        Assert.Equal(requests.Count, requests.Select(r => r.Number).Distinct().Count());
        var declared = Enum.GetValues<Syscall>();
        Assert.Empty(declared.Except(requests.Select(r => r.Number)));
    }

    [Fact]
    public void The_frame_header_is_sixteen_bytes()
    {
        Assert.Equal(FrameHeader.Size, Unsafe.SizeOf<FrameHeader>());
        Assert.Equal(16, FrameHeader.Size);
    }
}
