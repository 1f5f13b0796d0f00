using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;

namespace KernelBridge.Tests.Quota;

/// <summary>
/// --max-mapped-bytes: the bytes of the views a process has mapped are charged to it. A view past
/// the quota fails with STATUS_QUOTA_EXCEEDED (what a failed process quota charge returns) and maps
/// nothing; unmapping gives the charge back, and so does the process's end.
/// </summary>
public sealed unsafe class MappedBytesQuotaTests
{
    private const int Quota = 1 << 20;
    private const int Half = Quota / 2;

    [Fact]
    public void The_view_past_the_quota_fails_with_STATUS_QUOTA_EXCEEDED_and_an_unmap_makes_room()
    {
        using var kernel = QuotaTest.StartKernel("q-mapped", "--max-mapped-bytes", "1M");
        using var hostile = QuotaTest.Connect(kernel);
        using var other = QuotaTest.Connect(kernel);
        using (GateClient.Use(hostile))
        {
            var section = NewSection(4 * Quota);
            var viewsBefore = KernelControl.QueryState(hostile).Views;
            Assert.Equal(NtStatus.STATUS_QUOTA_EXCEEDED, Map(section, 2 * Quota, out _));
            Assert.Equal(viewsBefore, KernelControl.QueryState(hostile).Views);

            Assert.Equal(NtStatus.STATUS_SUCCESS, Map(section, Half, out var first));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Map(section, Half, out var second));
            Assert.Equal(NtStatus.STATUS_QUOTA_EXCEEDED, Map(section, 64 * 1024, out _));
            Assert.Contains(KernelControl.QueryQuotas(hostile).RowsOf(Environment.ProcessId), row => row.ViewBytes == Quota && row.Views == 2);

            // Another process maps on its own quota.
            using (GateClient.Use(other))
            {
                var own = NewSection(Quota);
                Assert.Equal(NtStatus.STATUS_SUCCESS, Map(own, Quota, out var theirs));
                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtUnmapViewOfSection(PseudoHandles.CurrentProcess, theirs));
                Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtClose(own));
            }

            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtUnmapViewOfSection(PseudoHandles.CurrentProcess, first));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Map(section, Half, out first));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtUnmapViewOfSection(PseudoHandles.CurrentProcess, first));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtUnmapViewOfSection(PseudoHandles.CurrentProcess, second));
            Assert.Equal(NtStatus.STATUS_SUCCESS, Ntdll.NtClose(section));
            Assert.All(KernelControl.QueryQuotas(hostile).RowsOf(Environment.ProcessId), row => Assert.Equal(0, row.ViewBytes));
        }
    }

    [Fact]
    public void A_process_that_dies_with_its_quota_mapped_gives_every_view_back()
    {
        using var kernel = QuotaTest.StartKernel("q-mapped-rundown", "--max-mapped-bytes", "1M");
        using var observer = QuotaTest.Connect(kernel);
        var baseline = KernelControl.QueryState(observer);
        var hostile = QuotaTest.Connect(kernel);
        try
        {
            using (GateClient.Use(hostile))
            {
                var section = NewSection(Quota);
                Assert.Equal(NtStatus.STATUS_SUCCESS, Map(section, Quota, out _));
                Assert.Equal(NtStatus.STATUS_QUOTA_EXCEEDED, Map(section, 64 * 1024, out _));
            }
            Assert.Equal(baseline.ViewBytes + Quota, KernelControl.QueryState(observer).ViewBytes);
        }
        finally
        {
            hostile.Dispose();
        }
        var after = Infrastructure.KernelCounts.WaitFor(observer, s => s.Views == baseline.Views && s.ViewBytes == baseline.ViewBytes
            && s.SectionBytes == baseline.SectionBytes, QuotaTest.Timeout);
        Assert.Equal((baseline.Views, baseline.ViewBytes, baseline.SectionBytes), (after.Views, after.ViewBytes, after.SectionBytes));
    }

    private static nint NewSection(long size)
    {
        nint section = 0;
        var status = Ntdll.NtCreateSection(&section, AccessMask.SECTION_ALL_ACCESS, new ObjectAttributes(null), &size, PageProtection.PAGE_READWRITE,
            MemoryAttributes.SEC_COMMIT, 0);
        Assert.Equal(NtStatus.STATUS_SUCCESS, status);
        return section;
    }

    private static NtStatus Map(nint section, int length, out nint address)
    {
        nint at = 0;
        nuint viewSize = (nuint)length;
        long offset = 0;
        var status = Ntdll.NtMapViewOfSection(section, PseudoHandles.CurrentProcess, &at, 0, 0, &offset, &viewSize, SectionInherit.ViewShare, 0,
            PageProtection.PAGE_READWRITE);
        address = at;
        return status;
    }
}
