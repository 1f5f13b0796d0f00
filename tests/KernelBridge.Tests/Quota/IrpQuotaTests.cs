using System.Runtime.InteropServices;
using KernelBridge.Abi;
using KernelBridge.Client;
using KernelBridge.Client.Gate;
using KernelBridge.Client.Native;
using KernelBridge.Client.Win32;
using KernelBridge.TestDriver;
using KernelBridge.Tests.Infrastructure;

namespace KernelBridge.Tests.Quota;

/// <summary>
/// --max-pending-irps: a process has at most that many I/O requests in flight. The next fails at
/// once with STATUS_INSUFFICIENT_RESOURCES (what IopXxxControlFile returns when IoAllocateIrp
/// cannot allocate): the driver never sees it, and as a synchronous failure on an overlapped handle
/// it signals nothing and queues no packet. Completing one makes room; other processes are unaffected.
/// </summary>
public sealed unsafe class IrpQuotaTests
{
    private const int Limit = 4;

    [Fact]
    public void The_request_past_the_quota_fails_with_STATUS_INSUFFICIENT_RESOURCES_and_never_reaches_the_driver()
    {
        using var kernel = QuotaTest.StartKernel("q-irps", "--max-pending-irps", $"{Limit}");
        using var hostile = QuotaTest.Connect(kernel);
        using var other = QuotaTest.Connect(kernel);
        var tag = KbTest.NewTag();
        var otherTag = KbTest.NewTag();
        var iosbs = (IO_STATUS_BLOCK*)NativeMemory.AllocZeroed((nuint)(Limit + 2), (nuint)sizeof(IO_STATUS_BLOCK));
        nint file = 0, otherFile = 0, port = 0;
        try
        {
            using (GateClient.Use(hostile))
            {
                file = KbTest.Open(tag, flags: 0x40000000);
                port = Kernel32.CreateIoCompletionPort(Kernel32.INVALID_HANDLE_VALUE, 0, 0, 0);
                Assert.True(Kernel32.CreateIoCompletionPort(file, port, 7, 0) == port, $"associating the file failed: {Kernel32.GetLastError()}");
                for (var i = 0; i < Limit; i++) Assert.Equal(NtStatus.STATUS_PENDING, Park(file, &iosbs[i], i + 1));
                iosbs[Limit].Status = 0x1234;
                Assert.Equal(NtStatus.STATUS_INSUFFICIENT_RESOURCES, Park(file, &iosbs[Limit], Limit + 1));
            }
            using (GateClient.Use(other))
            {
                Assert.Equal(Limit, KbTest.Counters(tag).Parked);
                // Another process has its own quota.
                otherFile = KbTest.Open(otherTag, flags: 0x40000000);
                Assert.Equal(NtStatus.STATUS_PENDING, Park(otherFile, &iosbs[Limit + 1], 0));
                Assert.Contains(KernelControl.QueryQuotas(other).RowsOf(Environment.ProcessId), row => row.PendingIrps == Limit);

                // The refused request left nothing: no IOSB written, no packet queued.
                Assert.Equal(0x1234, iosbs[Limit].Status);
                Assert.Equal(Limit, KbTest.Release(tag, NtStatus.STATUS_SUCCESS));
            }
            using (GateClient.Use(hostile))
            {
                var contexts = new List<nint>();
                for (var i = 0; i < Limit; i++) contexts.Add(Take(port));
                Assert.Equal(Enumerable.Range(1, Limit).Select(i => (nint)i), contexts.Order());
                Assert.Equal(0, Take(port, 0));
                // The quota was given back: a full set of requests again.
                for (var i = 0; i < Limit; i++) Assert.Equal(NtStatus.STATUS_PENDING, Park(file, &iosbs[i], 100 + i));
                Assert.Equal(NtStatus.STATUS_INSUFFICIENT_RESOURCES, Park(file, &iosbs[Limit], 200));
            }
        }
        finally
        {
            using (GateClient.Use(other))
            {
                KbTest.Release(tag, NtStatus.STATUS_CANCELLED);
                KbTest.Release(otherTag, NtStatus.STATUS_CANCELLED);
                if (otherFile != 0) Kernel32.CloseHandle(otherFile);
            }
            using (GateClient.Use(hostile))
            {
                if (file != 0) Kernel32.CloseHandle(file);
                if (port != 0) Kernel32.CloseHandle(port);
            }
            // Nothing may write an IOSB once every request has ended.
            KernelCounts.WaitFor(other, s => s.PendingIrps == 0, QuotaTest.Timeout);
            NativeMemory.Free(iosbs);
        }
    }

    [Fact]
    public void A_process_that_dies_with_its_quota_of_parked_requests_gives_them_all_back()
    {
        using var kernel = QuotaTest.StartKernel("q-irps-rundown", "--max-pending-irps", $"{Limit}");
        using var observer = QuotaTest.Connect(kernel);
        var tag = KbTest.NewTag();
        var iosbs = (IO_STATUS_BLOCK*)NativeMemory.AllocZeroed((nuint)(Limit + 1), (nuint)sizeof(IO_STATUS_BLOCK));
        try
        {
            var hostile = QuotaTest.Connect(kernel);
            try
            {
                using (GateClient.Use(hostile))
                {
                    var file = KbTest.Open(tag, flags: 0x40000000);
                    for (var i = 0; i < Limit; i++) Assert.Equal(NtStatus.STATUS_PENDING, Park(file, &iosbs[i], i + 1));
                    Assert.Equal(NtStatus.STATUS_INSUFFICIENT_RESOURCES, Park(file, &iosbs[Limit], 0));
                }
                Assert.Equal(Limit, KernelControl.QueryState(observer).PendingIrps);
            }
            finally
            {
                hostile.Dispose();
            }
            var after = KernelCounts.WaitFor(observer, s => s.PendingIrps == 0 && s.Clients == 1, QuotaTest.Timeout);
            Assert.Equal(0, after.PendingIrps);
            Assert.Single(KernelControl.QueryQuotas(observer).Processes);
            using (GateClient.Use(observer)) Assert.Equal(0, KbTest.Counters(tag).Parked);
        }
        finally
        {
            NativeMemory.Free(iosbs);
        }
    }

    /// <summary>An overlapped RETURN_BUFFERED IOCTL the driver parks until IOCTL_KBTEST_RELEASE; its status.</summary>
    private static NtStatus Park(nint file, IO_STATUS_BLOCK* iosb, nint apcContext)
    {
        var input = KbTest.Bytes(new ReturnRequest(0, 0, 0, PendMode.Park, 0, 0, 0));
        fixed (byte* pointer = input)
            return Ntdll.NtDeviceIoControlFile(file, 0, 0, apcContext, iosb, KbTestInterface.IOCTL_KBTEST_RETURN_BUFFERED.Value, pointer, (uint)input.Length, null, 0);
    }

    /// <summary>The APC context of the next packet on the port (0 if none came within <paramref name="milliseconds"/>).</summary>
    private static nint Take(nint port, uint milliseconds = 10_000)
    {
        long timeout = -(long)milliseconds * 10_000;
        nint key = 0, context = 0;
        var iosb = new IO_STATUS_BLOCK();
        var status = Ntdll.NtRemoveIoCompletion(port, &key, &context, &iosb, &timeout);
        return status == NtStatus.STATUS_SUCCESS ? context : 0;
    }
}
