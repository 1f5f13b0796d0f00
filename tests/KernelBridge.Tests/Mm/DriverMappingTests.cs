using System.Runtime.InteropServices;
using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Mm;

/// <summary>
/// Memory a driver shares with the process that calls it: pages it maps into the caller and unmaps
/// at IRP_MJ_CLEANUP (MmAllocatePagesForMdl + MmMapLockedPagesSpecifyCache(UserMode)), a caller's
/// section it maps in system space by handle, a named section it creates with a kernel handle and
/// maps into the caller. A mapping belongs to its process: rundown unmaps it, and the kernel frees
/// what nobody maps any more. The kernel is the class's own, so its counts are ours.
/// </summary>
public sealed unsafe class DriverMappingTests(TestDriverKernelFixture fixture) : IClassFixture<TestDriverKernelFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private KernelState State() => KernelControl.QueryState(fixture.Gate);

    private KernelState WaitFor(Func<KernelState, bool> done) => KernelCounts.WaitFor(fixture.Gate, done, Patience);

    private static T Control<T>(nint device, CtlCode code, ReadOnlySpan<byte> input) where T : unmanaged
    {
        var output = new byte[sizeof(T)];
        uint returned = 0;
        Assert.True(Kernel32.DeviceIoControl(device, code.Value, input.ToArray(), output, ref returned), $"{code}: error {Kernel32.GetLastError()}");
        return MemoryMarshal.Read<T>(output);
    }

    private static MemoryBasicInformation Query(nint address)
    {
        MemoryBasicInformation info;
        Kernel32.VirtualQuery(address, &info, (nuint)sizeof(MemoryBasicInformation));
        return info;
    }

    [Fact]
    public void A_driver_maps_its_pages_into_the_caller_both_see_each_others_writes_and_cleanup_unmaps_and_frees_them()
    {
        using var scope = GateClient.Use(fixture.Gate);
        var before = State();
        var device = KbTest.Open(KbTest.NewTag());
        const int size = 100_000;
        var address = (nint)Control<ulong>(device, KbTestInterface.IOCTL_KBTEST_MAP_PAGES, KbTest.Bytes((long)size));
        var pages = new Span<byte>((void*)address, size);
        for (var i = 0; i < size; i += 997) Assert.Equal((byte)(i * 7 + 1), pages[i]);
        var info = Query(address);
        Assert.Equal(MemoryAttributes.MEM_MAPPED, info.Type);
        Assert.Equal(PageProtection.PAGE_READWRITE, info.Protect);
        Assert.Equal(before.Views + 2, State().Views); // the driver's system view and the caller's
        pages.Fill(2);
        Assert.Equal(2L * size, Control<long>(device, KbTestInterface.IOCTL_KBTEST_SUM_PAGES, default));

        Assert.True(Kernel32.CloseHandle(device));
        Assert.Equal(MemoryAttributes.MEM_FREE, Query(address).State);
        var after = State();
        Assert.Equal(before.Views, after.Views);
        Assert.Equal(before.ObjectsOf("Section"), after.ObjectsOf("Section"));
        Assert.Equal(before.SectionBytes, after.SectionBytes);
    }

    [Fact]
    public void A_driver_fills_a_callers_section_through_its_handle_only_with_the_access_the_handle_grants()
    {
        using var scope = GateClient.Use(fixture.Gate);
        var name = $"kb-fill-{Guid.NewGuid():N}";
        using var section = Section.Create(65536, name: name, gate: fixture.Gate);
        using var view = section.MapView();
        var device = KbTest.Open(KbTest.NewTag());
        try
        {
            var fill = KbTest.Bytes(new KbTestInterface.SectionFill(section.Handle.Value, 100, 50, 0x7E));
            uint returned = 0;
            Assert.True(Kernel32.DeviceIoControl(device, KbTestInterface.IOCTL_KBTEST_FILL_SECTION.Value, fill, [], ref returned));
            Assert.Equal(0, view.Span[99]);
            Assert.Equal(0x7E, view.Span[100]);
            Assert.Equal(0x7E, view.Span[149]);
            Assert.Equal(0, view.Span[150]);

            var readOnly = Kernel32.OpenFileMapping(FileMapAccess.FILE_MAP_READ, false, name);
            try
            {
                var denied = KbTest.Bytes(new KbTestInterface.SectionFill(readOnly, 0, 1, 1));
                Assert.False(Kernel32.DeviceIoControl(device, KbTestInterface.IOCTL_KBTEST_FILL_SECTION.Value, denied, [], ref returned));
                Assert.Equal((uint)Win32Error.ERROR_ACCESS_DENIED, Kernel32.GetLastError());
            }
            finally
            {
                Kernel32.CloseHandle(readOnly);
            }
            var notASection = KbTest.Bytes(new KbTestInterface.SectionFill(device, 0, 1, 1));
            Assert.False(Kernel32.DeviceIoControl(device, KbTestInterface.IOCTL_KBTEST_FILL_SECTION.Value, notASection, [], ref returned));
            Assert.Equal((uint)Win32Error.ERROR_INVALID_HANDLE, Kernel32.GetLastError());
        }
        finally
        {
            Kernel32.CloseHandle(device);
        }
    }

    [Fact]
    public void A_section_a_driver_creates_with_a_kernel_handle_is_shared_by_name_with_user_mode_and_goes_when_nobody_maps_it()
    {
        using var scope = GateClient.Use(fixture.Gate);
        var before = State();
        var name = $"kb-driver-{Guid.NewGuid():N}";
        var first = KbTest.Open(KbTest.NewTag());
        var second = KbTest.Open(KbTest.NewTag());
        var a = (nint)Control<ulong>(first, KbTestInterface.IOCTL_KBTEST_SHARED_SECTION, Encoding.Unicode.GetBytes(name));
        var b = (nint)Control<ulong>(second, KbTestInterface.IOCTL_KBTEST_SHARED_SECTION, Encoding.Unicode.GetBytes(name));
        Assert.NotEqual(a, b);
        *(long*)a = 0x0123456789;
        Assert.Equal(0x0123456789, *(long*)b);

        // User mode opens it by name; its kernel handle is no use to user mode.
        using (var section = Section.Open(name, gate: fixture.Gate))
        using (var view = section.MapView(protection: PageProtection.PAGE_READONLY))
        {
            Assert.Equal(0x0123456789, view.Read<long>(0));
        }
        nint viaKernelHandle = 0;
        nuint viewSize = 0;
        long offset = 0;
        Assert.Equal(NtStatus.STATUS_INVALID_HANDLE, Ntdll.NtMapViewOfSection(unchecked((nint)0xFFFFFFFF80000004), PseudoHandles.CurrentProcess,
            &viaKernelHandle, 0, 0, &offset, &viewSize, SectionInherit.ViewShare, 0, PageProtection.PAGE_READONLY));

        Assert.True(Kernel32.CloseHandle(first));
        Assert.Equal(MemoryAttributes.MEM_FREE, Query(a).State);
        Assert.Equal(0x0123456789, *(long*)b);
        Assert.True(Kernel32.CloseHandle(second));
        var after = State();
        Assert.Equal(before.Views, after.Views);
        Assert.Equal(before.ObjectsOf("Section"), after.ObjectsOf("Section"));
        Assert.Equal(0, Kernel32.OpenFileMapping(FileMapAccess.FILE_MAP_READ, false, name));
    }

    [Fact]
    public void Rundown_of_a_killed_process_unmaps_what_its_driver_mapped_and_the_driver_frees_it_at_cleanup()
    {
        var before = State();
        var tag = KbTest.NewTag();
        using (var holder = ChildProcess.StartDll("KernelBridge.TestClient.dll", null, "section", fixture.Instance, "driverpages", KbTest.Path(tag), "1048576"))
        {
            Assert.True(holder.WaitForLine("ready", Patience), holder.Output);
            Assert.Equal(before.Views + 2, State().Views);
            holder.Kill();
        }
        var after = WaitFor(s => s.Views == before.Views && s.ObjectsOf("Section") == before.ObjectsOf("Section"));
        Assert.Equal(before.Views, after.Views);
        Assert.Equal(before.ObjectsOf("Section"), after.ObjectsOf("Section"));
        Assert.Equal(before.SectionBytes, after.SectionBytes);
        using var scope = GateClient.Use(fixture.Gate);
        Assert.True(KbTest.Eventually(() => KbTest.Counters(tag).Closes == 1));
    }
}
