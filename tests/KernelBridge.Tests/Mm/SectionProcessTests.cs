using System.Text;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Win32;
using KernelBridge.Tests.Gate.Support;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Mm;

/// <summary>
/// Sections across processes: a view in one process sees another's writes; a read-only view is
/// really read-only (the writer dies of the fault, the kernel does not, and its views go); a killed
/// process's views are unmapped by rundown; a named section outlives its creator while mapped
/// elsewhere, though its name goes with the last handle. Children are TestClient processes.
/// </summary>
public sealed unsafe class SectionProcessTests(PlainKernelFixture fixture) : IClassFixture<PlainKernelFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private ChildProcess Start(params string[] arguments) =>
        ChildProcess.StartDll("KernelBridge.TestClient.dll", null, ["section", fixture.Instance, .. arguments]);

    private ChildProcess StartReady(params string[] arguments)
    {
        var child = Start(arguments);
        if (!child.WaitForLine("ready", Patience))
        {
            var output = child.Output;
            child.Dispose();
            Assert.Fail($"test client section {string.Join(' ', arguments)} never said ready; output:{Environment.NewLine}{output}");
        }
        return child;
    }

    private KernelState State() => KernelControl.QueryState(fixture.Gate);

    /// <summary>Waits (bounded) until the kernel's counts satisfy <paramref name="done"/>.</summary>
    private KernelState WaitFor(Func<KernelState, bool> done) => KernelCounts.WaitFor(fixture.Gate, done, Patience);

    private static string Text(SectionView view)
    {
        var span = view.Span;
        var end = span.IndexOf((byte)0);
        return Encoding.UTF8.GetString(span[..(end < 0 ? span.Length : end)]);
    }

    [Fact]
    public void Views_of_one_section_in_two_processes_see_each_others_writes()
    {
        using var scope = GateClient.Use(fixture.Gate);
        var name = $"kb-shared-{Guid.NewGuid():N}";
        using var section = Section.Create(65536, name: name, gate: fixture.Gate);
        using var view = section.MapView();
        using (var writer = StartReady("write", name, "written by the child"))
        {
            Assert.Equal("written by the child", Text(view));
        }
        Encoding.UTF8.GetBytes("written by the parent\0").CopyTo(view.Span);
        using var reader = Start("read", name);
        Assert.True(reader.WaitForExit(Patience), "the reader did not finish");
        reader.Process.WaitForExit(); // the rest of its output (it starts no process that could hold the pipe)
        Assert.Contains("read written by the parent", reader.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_process_writing_to_a_read_only_view_dies_of_the_fault_and_the_kernel_unmaps_its_views()
    {
        var name = $"kb-readonly-{Guid.NewGuid():N}";
        using var section = Section.Create(65536, name: name, gate: fixture.Gate);
        using var view = section.MapView();
        var before = State();
        using var child = Start("fault", name);
        Assert.True(child.WaitForExit(Patience), "the child survived writing to a read-only view");
        // It has exited: this only waits for the rest of its output (it starts no process that could hold the pipe).
        child.Process.WaitForExit();
        Assert.Contains("mapped", child.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("wrote to a read-only view", child.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, child.Process.ExitCode);
        var after = WaitFor(s => s.Views == before.Views && s.Clients == before.Clients);
        Assert.Equal(before.Views, after.Views);
        Assert.Equal(before.ViewBytes, after.ViewBytes);
        // The kernel and the section carry on.
        view.Write(0, 42);
        Assert.Equal(42, view.Read<int>(0));
        Assert.Equal(65536, section.Size);
    }

    [Fact]
    public void Rundown_of_a_killed_process_unmaps_its_views_and_frees_a_section_nobody_maps_any_more()
    {
        var before = State();
        var name = $"kb-rundown-{Guid.NewGuid():N}";
        using (var creator = StartReady("create", name, "1048576", "doomed"))
        {
            var mapped = State();
            Assert.Equal(before.Views + 1, mapped.Views);
            Assert.Equal(before.ObjectsOf("Section") + 1, mapped.ObjectsOf("Section"));
            creator.Kill();
        }
        var after = WaitFor(s => s.Views == before.Views && s.ObjectsOf("Section") == before.ObjectsOf("Section"));
        Assert.Equal(before.Views, after.Views);
        Assert.Equal(before.ObjectsOf("Section"), after.ObjectsOf("Section"));
        Assert.Equal(before.SectionBytes, after.SectionBytes);
        using var scope = GateClient.Use(fixture.Gate);
        Assert.Equal(0, Kernel32.OpenFileMapping(FileMapAccess.FILE_MAP_READ, false, name));
        Assert.Equal((uint)Win32Error.ERROR_FILE_NOT_FOUND, Kernel32.GetLastError());
    }

    [Fact]
    public void A_named_section_outlives_its_creator_while_mapped_elsewhere_but_its_name_goes_with_the_last_handle()
    {
        var before = State();
        var name = $"kb-outlive-{Guid.NewGuid():N}";
        using var scope = GateClient.Use(fixture.Gate);
        SectionView view;
        using (var creator = StartReady("create", name, "65536", "left behind"))
        {
            using var section = Section.Open(name, gate: fixture.Gate);
            view = section.MapView(protection: PageProtection.PAGE_READONLY);
            creator.Kill();
        }
        using (view)
        {
            WaitFor(s => s.Clients == before.Clients);
            Assert.Equal("left behind", Text(view));
            Assert.Equal(0, Kernel32.OpenFileMapping(FileMapAccess.FILE_MAP_READ, false, name));
            Assert.Equal((uint)Win32Error.ERROR_FILE_NOT_FOUND, Kernel32.GetLastError());
            Assert.Equal(before.ObjectsOf("Section") + 1, State().ObjectsOf("Section"));
        }
        var after = WaitFor(s => s.ObjectsOf("Section") == before.ObjectsOf("Section"));
        Assert.Equal(before.ObjectsOf("Section"), after.ObjectsOf("Section"));
        Assert.Equal(before.Views, after.Views);
    }

    [Fact]
    public void A_kernel_started_with_max_section_size_refuses_a_larger_section_with_STATUS_SECTION_TOO_BIG()
    {
        using var kernel = KernelProcess.Start(KernelProcess.NewInstanceName("section-limit"), "--persistent", "--max-section-size", "1M");
        using var gate = kernel.Connect();
        using var scope = GateClient.Use(gate);
        long size = (1 << 20) + 1;
        nint handle;
        Assert.Equal(NtStatus.STATUS_SECTION_TOO_BIG, KernelBridge.Client.Native.Ntdll.NtCreateSection(&handle, AccessMask.SECTION_ALL_ACCESS, default, &size,
            PageProtection.PAGE_READWRITE, MemoryAttributes.SEC_COMMIT, 0));
        Assert.Equal(0, Kernel32.CreateFileMapping(Kernel32.INVALID_HANDLE_VALUE, 0, PageProtection.PAGE_READWRITE, 0, (uint)size, null));
        Assert.Equal((uint)Win32Error.ERROR_NOT_ENOUGH_MEMORY, Kernel32.GetLastError());
        using var fits = Section.Create(1 << 20, gate: gate);
        Assert.Equal(1 << 20, fits.Size);
    }
}
