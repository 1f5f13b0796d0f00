using System.Reflection;
using System.Runtime.CompilerServices;
using KernelBridge.Abi.Protocol;

namespace KernelBridge.Tests.Abi;

/// <summary>
/// The protocol is declared once and everything else is derived from it: each service number has
/// exactly one request declaration, one kernel handler, one client stub, a dispatch case, and a
/// line in the service table.
/// </summary>
public sealed class ProtocolTableTests
{
    private static readonly Syscall[] Services = Enum.GetValues<Syscall>();

    private static readonly Type Handlers = typeof(ISyscallHandlers<>);
    private static readonly Type Kernel = typeof(KernelBridge.Kernel.KernelHost).Assembly.GetType("KernelBridge.Kernel.Services.SystemServices", throwOnError: true)!;
    private static readonly Type Stubs = typeof(KernelBridge.Client.DeviceFile).Assembly.GetType("KernelBridge.Client.Gate.Syscalls", throwOnError: true)!;

    [Fact]
    public void Every_service_has_exactly_one_declaration()
    {
        var requests = typeof(FrameHeader).Assembly.GetTypes()
            .Where(t => t.IsValueType && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequest<>)))
            .GroupBy(t => (Syscall)t.GetProperty("Number", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!)
            .ToDictionary(g => g.Key, g => g.ToList());
        foreach (var service in Services)
        {
            Assert.True(requests.TryGetValue(service, out var declared), $"{service} has no request declaration");
            Assert.Single(declared);
            Assert.Equal(service + "Request", declared[0].Name);
        }
        Assert.Equal(Services.Length, requests.Count);
    }

    [Fact]
    public void Every_service_has_exactly_one_kernel_handler()
    {
        var contract = Handlers.MakeGenericType(Kernel.Assembly.GetType("KernelBridge.Kernel.Gate.SyscallContext", throwOnError: true)!);
        Assert.True(contract.IsAssignableFrom(Kernel), "the system services implement the generated handler interface");
        var map = Kernel.GetInterfaceMap(contract);
        foreach (var service in Services)
        {
            var slots = map.InterfaceMethods.Select((m, i) => (m, i)).Where(x => x.m.Name == service.ToString()).ToList();
            Assert.Single(slots);
            Assert.Equal(Kernel, map.TargetMethods[slots[0].i].DeclaringType);
        }
        Assert.Equal(Services.Length, map.InterfaceMethods.Length);
    }

    [Fact]
    public void Every_service_has_exactly_one_client_stub()
    {
        var methods = Stubs.GetMethods(BindingFlags.Public | BindingFlags.Static);
        var stubs = methods.Where(m => !m.Name.StartsWith("Submit", StringComparison.Ordinal)).GroupBy(m => m.Name).ToDictionary(g => g.Key, g => g.Count());
        foreach (var service in Services)
        {
            Assert.True(stubs.TryGetValue(service.ToString(), out var count), $"{service} has no client stub");
            Assert.Equal(1, count);
        }
        Assert.Equal(Services.Length, stubs.Count);
        // The I/O services (those answering an IoTransferReply) also have one that submits without waiting.
        var ioStubs = methods.Where(m => m.GetParameters().Any(p => p.ParameterType.Name.StartsWith("Nullable", StringComparison.Ordinal)
            && p.ParameterType.GenericTypeArguments[0].Name == "IoTarget")).Select(m => m.Name).ToList();
        var submitters = methods.Where(m => m.Name.StartsWith("Submit", StringComparison.Ordinal)).Select(m => m.Name["Submit".Length..]).ToList();
        Assert.NotEmpty(ioStubs);
        Assert.Equal(ioStubs.Order(), submitters.Order());
    }

    [Fact]
    public void Every_service_number_dispatches_to_its_own_decoder_and_no_other_number_does()
    {
        var known = Services.Select(s => (ushort)s).ToHashSet();
        for (var number = 0; number <= ushort.MaxValue; number++)
        {
            if (!known.Contains((ushort)number))
            {
                Assert.False(SyscallDispatch.Dispatch<int, ISyscallHandlers<int>>(null!, 0, (ushort)number, default), $"number {number} dispatched");
                continue;
            }
            // An empty payload is too short for any request: the case for the number reads its own request, and says whose.
            var e = Assert.Throws<ProtocolViolationException>(() => SyscallDispatch.Dispatch<int, ISyscallHandlers<int>>(null!, 0, (ushort)number, default));
            Assert.StartsWith(((Syscall)number) + ":", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_service_table_names_and_sizes_every_service()
    {
        foreach (var service in Services)
        {
            var number = (ushort)service;
            Assert.Equal(service.ToString(), SyscallTable.Name(number));
            var request = typeof(FrameHeader).Assembly.GetType($"KernelBridge.Abi.Protocol.{service}Request")!;
            var size = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(request).Invoke(null, null)!;
            Assert.Equal(size, SyscallTable.RequestSize(number));
            Assert.True(SyscallTable.MaxRequestLength(number) >= size);
        }
        Assert.Null(SyscallTable.Name(19));
        Assert.Equal(-1, SyscallTable.MaxRequestLength(19));
    }

    [Fact]
    public void The_trace_names_every_field_and_the_data()
    {
        var request = new NtCreateEventRequest(0, 0x1F0003, 0x40, 1, 0, 0, 0);
        var name = @"\BaseNamedObjects\x".AsSpan();
        var fixedPart = request.WithDataLengths(new NtCreateEventRequest.Data(name, default));
        var payload = new byte[Unsafe.SizeOf<NtCreateEventRequest>() + name.Length * 2];
        System.Runtime.InteropServices.MemoryMarshal.Write(payload, in fixedPart);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(name).CopyTo(payload.AsSpan(Unsafe.SizeOf<NtCreateEventRequest>()));
        var text = SyscallTable.DescribeRequest((ushort)Syscall.NtCreateEvent, payload);
        foreach (var field in new[] { "RootDirectory = 0", "DesiredAccess = 0x1F0003", "Attributes = 0x40", "EventType = 1", "InitialState = 0",
                     "NameBytes = 0x26", @"ObjectName = ""\BaseNamedObjects\x""" })
            Assert.Contains(field, text, StringComparison.Ordinal);
    }
}
